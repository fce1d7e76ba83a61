package token_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

// BenchmarkVerify compares a warm Verify (keys cached, result cache off) with a bare RSA-2048
// PKCS#1 v1.5 verification of the same token, and measures a repeated (cached) token.
// The "ratio" metric of warm-vs-bare is verifier time over bare time; the target is ≤ 1.3.
func BenchmarkVerify(b *testing.B) {
	iss := tokentest.Start(b)
	raw := iss.AccessToken("alice", "MLUsers")
	ctx := context.Background()

	i := strings.LastIndexByte(raw, '.')
	sig, err := base64.RawURLEncoding.DecodeString(raw[i+1:])
	if err != nil {
		b.Fatal(err)
	}
	pub := iss.PublicKey()
	bare := func() {
		h := sha256.Sum256([]byte(raw[:i]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
			b.Fatal(err)
		}
	}

	warm := newVerifier(b, iss, token.WithCacheSize(0))
	if _, err := warm.Verify(ctx, raw); err != nil {
		b.Fatal(err)
	}
	b.Run("bare-rsa", func(b *testing.B) {
		for b.Loop() {
			bare()
		}
	})
	b.Run("warm", func(b *testing.B) {
		for b.Loop() {
			if _, err := warm.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("warm-vs-bare", func(b *testing.B) {
		var tBare, tWarm time.Duration
		for b.Loop() {
			t0 := time.Now()
			bare()
			t1 := time.Now()
			if _, err := warm.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
			tBare += t1.Sub(t0)
			tWarm += time.Since(t1)
		}
		b.ReportMetric(float64(tWarm)/float64(tBare), "ratio")
	})
	cached := newVerifier(b, iss)
	if _, err := cached.Verify(ctx, raw); err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cached.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

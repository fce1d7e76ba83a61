package bench_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"testing"
)

// newGCM returns AES-256-GCM with a random key: the bare cipher the cookie codec is built on.
func newGCM(b *testing.B) cipher.AEAD {
	b.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return gcm
}

// BenchmarkAESGCMSeal is the baseline of bff/cookie's BenchmarkSeal: a random nonce and an
// AES-256-GCM seal of the same 3,200 bytes with the cookie name as associated data, without
// encoding.
func BenchmarkAESGCMSeal(b *testing.B) {
	gcm := newGCM(b)
	plaintext := bytes.Repeat([]byte("x"), 3200)
	ad := []byte("__Host-portico-session")
	nonce := make([]byte, gcm.NonceSize())
	dst := make([]byte, 0, len(plaintext)+gcm.Overhead())
	b.SetBytes(int64(len(plaintext)))
	for b.Loop() {
		_, _ = rand.Read(nonce)
		dst = gcm.Seal(dst[:0], nonce, plaintext, ad)
	}
}

// BenchmarkAESGCMOpen is the baseline of bff/cookie's BenchmarkOpen.
func BenchmarkAESGCMOpen(b *testing.B) {
	gcm := newGCM(b)
	plaintext := bytes.Repeat([]byte("x"), 3200)
	ad := []byte("__Host-portico-session")
	nonce := make([]byte, gcm.NonceSize())
	sealed := gcm.Seal(nil, nonce, plaintext, ad)
	dst := make([]byte, 0, len(plaintext))
	b.SetBytes(int64(len(plaintext)))
	for b.Loop() {
		var err error
		if dst, err = gcm.Open(dst[:0], nonce, sealed, ad); err != nil {
			b.Fatal(err)
		}
	}
}

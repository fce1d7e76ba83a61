package token_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

// removedKey reports whether err is the refusal of a token whose key the issuer no longer
// publishes: ErrUnknownKey (Unauthenticated), not ErrKeySet (Unavailable).
func removedKey(err error) bool {
	return errors.Is(err, token.ErrUnknownKey) && !errors.Is(err, token.ErrKeySet)
}

// TestKeySetRemovedKey rotates the issuer's key and removes the old one: a token signed with
// the old key keeps verifying (from the result cache too) until the key set has lived the
// lifetime its JWKS response's caching headers allow, and is refused from then on, while the
// new key verifies. No fetch happens before the lifetime is three quarters gone.
func TestKeySetRemovedKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		header   http.Header
		lifetime time.Duration
	}{
		{"no caching headers", nil, token.DefaultKeySetLifetime},
		{"max-age in bounds", http.Header{"Cache-Control": {"public, max-age=1200"}}, 20 * time.Minute},
		{"max-age below the minimum", http.Header{"Cache-Control": {"max-age=10"}}, token.MinKeySetLifetime},
		{"max-age above the maximum", http.Header{"Cache-Control": {"max-age=604800"}}, token.MaxKeySetLifetime},
		{"no-store", http.Header{"Cache-Control": {"no-store"}}, token.MinKeySetLifetime},
		{"Expires", http.Header{"Expires": {time.Now().Add(40 * time.Minute).UTC().Format(http.TimeFormat)}}, 40 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := tokentest.Start(t)
			iss.SetJWKSHeader(tt.header)
			clock := newClock(time.Now())
			v := newVerifier(t, iss, token.WithClock(clock.Now))
			ctx := context.Background()
			long := func(c tokentest.Claims) tokentest.Claims { c["exp"] = clock.Now().Add(3 * time.Hour).Unix(); return c }
			old := iss.Sign(long(iss.PersonClaims("alice", tokentest.WebClientID, "MLUsers")))
			if _, err := v.Verify(ctx, old); err != nil {
				t.Fatal(err)
			}
			iss.RotateKeys()
			iss.RemoveOldKeys()
			rotated := iss.Sign(long(iss.PersonClaims("dana", tokentest.WebClientID, "MLUsers")))

			clock.Advance(tt.lifetime / 2)
			if _, err := v.Verify(ctx, old); err != nil {
				t.Fatalf("removed key at half the lifetime: %v (the set is fresh: no fetch yet)", err)
			}
			if n := iss.JWKSFetches(); n != 1 {
				t.Fatalf("JWKS fetched %d times within half the lifetime, want 1", n)
			}
			clock.Advance(tt.lifetime - tt.lifetime/2)
			if _, err := v.Verify(ctx, old); !removedKey(err) {
				t.Fatalf("removed key after one lifetime: err = %v, want ErrUnknownKey alone", err)
			}
			if _, err := v.Verify(ctx, rotated); err != nil {
				t.Fatalf("new key after one lifetime: %v", err)
			}
			if n := iss.JWKSFetches(); n != 2 {
				t.Fatalf("JWKS fetched %d times, want 2", n)
			}
		})
	}
}

// TestKeySetRefreshesAhead checks the lazy refresh: from three quarters of the lifetime on, a
// request with a known kid is answered from the keys held and starts a fetch in the
// background, after which the removed key is refused, before the lifetime is over.
func TestKeySetRefreshesAhead(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now), token.WithCacheSize(0))
	ctx := context.Background()
	old := iss.AccessToken("alice")
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	iss.RotateKeys()
	iss.RemoveOldKeys()
	clock.Advance(token.DefaultKeySetLifetime * 3 / 4)
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("the request that starts the background refresh: %v (it must not wait for it)", err)
	}
	token.WaitForFetch(v.KeySet())
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (one background refresh)", n)
	}
	if _, err := v.Verify(ctx, old); !removedKey(err) {
		t.Fatalf("removed key after the background refresh: err = %v, want ErrUnknownKey alone", err)
	}
}

// TestKeySetExpiredWhileIssuerDown checks that a failed refresh never empties the key set:
// past its lifetime, with the issuer down, the keys held keep verifying (Unavailable only
// for a kid that cannot be had), fetches stay rate-limited, and once the issuer is back the
// removed key is refused.
func TestKeySetExpiredWhileIssuerDown(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now), token.WithCacheSize(0),
		token.WithKeySetOptions(token.WithJWKSURL(iss.URL+"/.well-known/jwks.json")))
	ctx := context.Background()
	old := iss.AccessToken("alice")
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}
	iss.RotateKeys()
	iss.RemoveOldKeys()
	iss.SetDown(true)
	clock.Advance(token.DefaultKeySetLifetime)
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("expired set, issuer down: %v (the keys held must stay)", err)
	}
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("expired set, issuer down, again: %v", err)
	}
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (the second request is within the refresh interval)", n)
	}
	stranger := tokentest.SignWithUnknownKey(iss.PersonClaims("x", tokentest.WebClientID), "made-up")
	if _, err := v.Verify(ctx, stranger); !errors.Is(err, token.ErrKeySet) {
		t.Fatalf("unknown kid, issuer down: err = %v, want ErrKeySet", err)
	}

	clock.Advance(token.DefaultRefreshInterval)
	iss.SetDown(false)
	// The last fetch failed, so this request does not wait: it is answered from the keys
	// held and refreshes them in the background.
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("issuer back, before the refresh lands: %v", err)
	}
	token.WaitForFetch(v.KeySet())
	if _, err := v.Verify(ctx, old); !removedKey(err) {
		t.Fatalf("removed key once the issuer is back: err = %v, want ErrUnknownKey alone", err)
	}
	if _, err := v.Verify(ctx, iss.AccessToken("dana")); err != nil {
		t.Fatalf("new key once the issuer is back: %v", err)
	}
}

// TestKeySetStalenessBound: while the issuer cannot be reached the keys held keep verifying,
// but not past MaxKeySetStaleness after the last successful fetch; then the answer is
// ErrKeySet (Unavailable), and a fetch that succeeds again restores verification.
func TestKeySetStalenessBound(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now), token.WithCacheSize(0),
		token.WithKeySetOptions(token.WithJWKSURL(iss.URL+"/.well-known/jwks.json")))
	ctx := context.Background()
	claims := iss.PersonClaims("alice", tokentest.WebClientID)
	claims["exp"] = clock.Now().Add(72 * time.Hour).Unix() // outlives the outage below
	long := iss.Sign(claims)
	if _, err := v.Verify(ctx, long); err != nil {
		t.Fatal(err)
	}
	iss.SetDown(true)
	clock.Advance(token.MaxKeySetStaleness - time.Minute)
	if _, err := v.Verify(ctx, long); err != nil {
		t.Fatalf("issuer down, keys within the bound: %v", err)
	}
	clock.Advance(2 * time.Minute)
	if _, err := v.Verify(ctx, long); !errors.Is(err, token.ErrKeySet) {
		t.Fatalf("issuer down past the bound: err = %v, want ErrKeySet", err)
	}
	iss.SetDown(false)
	clock.Advance(token.DefaultRefreshInterval)
	if _, err := v.Verify(ctx, long); err != nil {
		t.Fatalf("issuer back: %v", err)
	}
}

// TestKeySetExpiredRefreshCancelled checks that a caller whose context ends while an expired
// set is refreshed gets ErrKeySet (try again), never the possibly removed key.
func TestKeySetExpiredRefreshCancelled(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now), token.WithCacheSize(0))
	old := iss.AccessToken("alice")
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	clock.Advance(token.DefaultKeySetLifetime)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := v.Verify(ctx, old)
	if !errors.Is(err, token.ErrKeySet) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrKeySet and context.Canceled", err)
	}
	token.WaitForFetch(v.KeySet())
}

// TestKeySetDevIdPKeyRemoval runs the rotation against the real dev IdP: its old key leaves
// the JWKS when the grace period ends, and the verifier refuses it one key-set lifetime after
// its last fetch at the latest, while tokens from the new key verify.
func TestKeySetDevIdPKeyRemoval(t *testing.T) {
	t.Parallel()
	clock := newClock(time.Now())
	const grace = 2 * time.Minute
	idp := devidptest.Start(t, devidp.WithClock(clock.Now), devidp.WithKeyGracePeriod(grace))
	v := token.NewVerifier(idp.Issuer(), token.Cognito{ClientIDs: []string{devidp.WebClientID, devidp.MachineClientID}},
		token.WithClock(clock.Now), token.WithKeySetOptions(token.WithHTTPClient(idp.HTTPClient())))
	ctx := context.Background()
	old := idp.AccessToken(t, "alice")
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatal(err)
	}

	clock.Advance(time.Minute)
	idp.RotateKeys()
	rotated := idp.AccessToken(t, "dana")
	if _, err := v.Verify(ctx, rotated); err != nil { // unknown kid: refetched at once
		t.Fatalf("new key after the rotation: %v", err)
	}
	fetched := clock.Now()
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("old key within the grace period: %v", err)
	}

	clock.Advance(grace) // the old key has left the dev IdP's JWKS
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("old key right after its removal: %v (the set fetched %s ago is fresh)", err, grace)
	}
	clock.Advance(fetched.Add(token.DefaultKeySetLifetime).Sub(clock.Now()))
	if _, err := v.Verify(ctx, old); !removedKey(err) {
		t.Fatalf("removed key one lifetime after the last fetch: err = %v, want ErrUnknownKey alone", err)
	}
	if _, err := v.Verify(ctx, rotated); err != nil {
		t.Fatalf("new key after the removal: %v", err)
	}
}

// TestKeySetRefreshKeepsCachedResults checks that a refresh which finds a key unchanged keeps
// the results it verified: the remembered principal is served again, with no new RSA check.
func TestKeySetRefreshKeepsCachedResults(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now))
	c := iss.PersonClaims("alice", tokentest.WebClientID)
	c["exp"] = clock.Now().Add(3 * time.Hour).Unix()
	raw := iss.Sign(c)
	p1, err := v.Verify(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(token.DefaultKeySetLifetime)
	p2, err := v.Verify(context.Background(), raw)
	if err != nil || p2 != p1 {
		t.Fatalf("after a refresh that kept the key: %p, %v; want the remembered %p", p2, err, p1)
	}
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
}

// TestKeySetReplacedKeyMaterial checks that a cached result is tied to the key material that
// verified it, not to its kid: when the issuer publishes other material under the same kid,
// a token of the old material is refused once the set is refetched.
func TestKeySetReplacedKeyMaterial(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now))
	c := iss.PersonClaims("alice", tokentest.WebClientID)
	c["exp"] = clock.Now().Add(3 * time.Hour).Unix()
	old := iss.Sign(c)
	if _, err := v.Verify(context.Background(), old); err != nil {
		t.Fatal(err)
	}
	kid := iss.Kid()
	iss.ReplaceKey()
	if iss.Kid() != kid {
		t.Fatalf("ReplaceKey changed the kid")
	}
	clock.Advance(token.DefaultKeySetLifetime)
	if _, err := v.Verify(context.Background(), old); !errors.Is(err, token.ErrSignature) {
		t.Fatalf("token of replaced key material: err = %v, want ErrSignature", err)
	}
	if _, err := v.Verify(context.Background(), iss.Sign(c)); err != nil {
		t.Fatalf("token of the new material: %v", err)
	}
}

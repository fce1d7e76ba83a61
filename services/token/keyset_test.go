package token_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/token"
	"github.com/portico-dev/portico/services/token/tokentest"
)

// verifyAll verifies raw from n goroutines at once and returns the errors.
func verifyAll(v *token.Verifier, raw string, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = v.Verify(context.Background(), raw)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func TestKeySetNoRefetchStorm(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now), token.WithCacheSize(0),
		token.WithKeySetOptions(token.WithRefreshInterval(time.Minute)))

	for _, err := range verifyAll(v, iss.AccessToken("alice"), 50) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.JWKSFetches(); n != 1 {
		t.Fatalf("50 concurrent first verifications fetched the JWKS %d times, want 1", n)
	}
	// A caller that asks for a refresh just after another caller's fetch finished gets that
	// fetch's result.
	if err := v.KeySet().Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := iss.JWKSFetches(); n != 1 {
		t.Fatalf("a Refresh within the interval fetched the JWKS (%d fetches), want none", n)
	}

	// A flood of unknown kids within the interval costs nothing.
	stranger := tokentest.SignWithUnknownKey(iss.PersonClaims("x", tokentest.WebClientID), "made-up")
	for _, err := range verifyAll(v, stranger, 50) {
		if !errors.Is(err, token.ErrUnknownKey) || errors.Is(err, token.ErrKeySet) {
			t.Fatalf("err = %v, want ErrUnknownKey alone (the keys are fresh)", err)
		}
	}
	if n := iss.JWKSFetches(); n != 1 {
		t.Fatalf("unknown kids within the interval fetched the JWKS %d times, want 1", n)
	}

	// After the interval, one fetch serves every concurrent caller.
	clock.Advance(2 * time.Minute)
	verifyAll(v, stranger, 50)
	if n := iss.JWKSFetches(); n != 2 {
		t.Fatalf("unknown kids after the interval fetched the JWKS %d times in all, want 2", n)
	}
}

func TestKeySetRotation(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now),
		token.WithKeySetOptions(token.WithRefreshInterval(time.Minute)))
	if _, err := v.Verify(context.Background(), iss.AccessToken("alice")); err != nil {
		t.Fatal(err)
	}
	iss.RotateKeys()
	rotated := iss.AccessToken("dana")
	if _, err := v.Verify(context.Background(), rotated); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("new kid within the interval: err = %v, want ErrUnknownKey", err)
	}
	clock.Advance(time.Minute)
	if _, err := v.Verify(context.Background(), rotated); err != nil {
		t.Fatalf("new kid after the interval: %v", err)
	}
}

func TestKeySetServesCacheWhileIssuerDown(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now), token.WithCacheSize(0),
		token.WithKeySetOptions(token.WithRefreshInterval(time.Minute)))
	if _, err := v.Verify(context.Background(), iss.AccessToken("alice")); err != nil {
		t.Fatal(err)
	}
	iss.SetDown(true)
	clock.Advance(time.Hour - 2*time.Minute)
	if _, err := v.Verify(context.Background(), iss.AccessToken("alice")); err != nil {
		t.Fatalf("known kid while the issuer is down: %v", err)
	}
	stranger := tokentest.SignWithUnknownKey(iss.PersonClaims("x", tokentest.WebClientID), "made-up")
	_, err := v.Verify(context.Background(), stranger)
	if !errors.Is(err, token.ErrUnknownKey) || !errors.Is(err, token.ErrKeySet) {
		t.Fatalf("unknown kid while the issuer is down: err = %v, want ErrUnknownKey and ErrKeySet", err)
	}
	if _, err := v.Verify(context.Background(), iss.AccessToken("alice")); err != nil {
		t.Fatalf("known kid after a failed refresh: %v", err)
	}
}

func TestKeySetFirstFetchFails(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	iss.SetDown(true)
	clock := newClock(time.Now())
	v := newVerifier(t, iss, token.WithClock(clock.Now))
	raw := iss.AccessToken("alice")
	if _, err := v.Verify(context.Background(), raw); !errors.Is(err, token.ErrKeySet) {
		t.Fatalf("err = %v, want ErrKeySet", err)
	}
	// Until the next attempt, a valid token still gets ErrKeySet (Unavailable: retry), not a
	// bare ErrUnknownKey (Unauthenticated), which would make clients drop their sessions.
	if _, err := v.Verify(context.Background(), raw); !errors.Is(err, token.ErrUnknownKey) || !errors.Is(err, token.ErrKeySet) {
		t.Fatalf("rate-limited after a failed fetch: err = %v, want ErrUnknownKey and ErrKeySet", err)
	}
	iss.SetDown(false)
	if _, err := v.Verify(context.Background(), raw); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("immediately after a failed first fetch: err = %v, want ErrUnknownKey (rate-limited)", err)
	}
	// With no keys at all, the retry interval is a second, not the full refresh interval.
	clock.Advance(time.Second)
	if _, err := v.Verify(context.Background(), raw); err != nil {
		t.Fatalf("a second after the issuer came up: %v", err)
	}
	if n := iss.JWKSFetches(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1 (the failed attempt stopped at discovery)", n)
	}
}

func TestKeySetDiscoveryIssuerMismatch(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	v := token.NewVerifier(iss.URL+"/", token.Cognito{ClientIDs: clientIDs})
	_, err := v.Verify(context.Background(), iss.AccessToken("alice"))
	if !errors.Is(err, token.ErrKeySet) {
		t.Fatalf("err = %v, want ErrKeySet (discovery issuer differs)", err)
	}
}

package faults_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/services/token"
)

// TestIdPDown takes the identity provider away from a running system: signed-in browsers
// and machine clients keep working (the services verify with the keys they hold, the BFF
// with the session it has), while a new sign-in gets a clear page instead of a hang or a
// stack trace; when the provider returns, sign-in works again.
func TestIdPDown(t *testing.T) {
	t.Parallel()
	c := newChain(t, chainOptions{})
	ctx := context.Background()
	br := c.browser("alice")
	viaBFF := c.viaBFF(br)
	machine := c.direct(c.machineToken())
	if _, err := viaBFF.Converse(ctx, ask("hello", 8)); err != nil {
		t.Fatalf("before the outage, through the BFF: %v", err)
	}
	if _, err := machine.Converse(ctx, ask("hello", 8)); err != nil {
		t.Fatalf("before the outage, machine client: %v", err)
	}

	c.idp.SetDown(true)
	for i := range 3 {
		if _, err := viaBFF.Converse(ctx, ask("hello", 8)); err != nil {
			t.Fatalf("IdP down, call %d through the BFF: %v", i, err)
		}
		if _, err := machine.Converse(ctx, ask("hello", 8)); err != nil {
			t.Fatalf("IdP down, call %d of the machine client: %v", i, err)
		}
	}
	newcomer := newBrowserNoSignIn(c)
	pg := get(t, newcomer, c.bff+"/auth/login?returnTo=%2F")
	if pg.statusCode != http.StatusServiceUnavailable || !strings.Contains(pg.body, "Sign-in is unavailable") {
		t.Fatalf("sign-in with the IdP down: %s %q", pg.status, pg.body)
	}
	if ct := pg.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("sign-in failure page Content-Type = %q, want an HTML page", ct)
	}

	c.idp.SetDown(false)
	if err := newcomer.SignIn(ctx, "alice"); err != nil {
		t.Fatalf("sign-in once the IdP is back: %v", err)
	}
	if _, err := c.viaBFF(newcomer).Converse(ctx, ask("hello", 8)); err != nil {
		t.Fatalf("call after signing in again: %v", err)
	}
	c.books(9)
}

// TestKeyRotation rotates the IdP's signing key under a running system: tokens signed with
// the old key keep verifying during the grace period, and tokens signed with the new key are
// refused until the services may refetch the key set (no sooner than its refresh interval
// after the last fetch) and verify after it; the test moves the shared clock rather than
// waiting. A browser signing in after the rotation gets a session whose calls pass too.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	c := newChain(t, chainOptions{})
	ctx := context.Background()
	oldTok := c.machineToken()
	before := c.browser("alice")
	if _, err := c.direct(oldTok).Converse(ctx, ask("hello", 8)); err != nil {
		t.Fatalf("old token before rotation: %v", err)
	}

	// Pin the services' last key-set fetch to now, whatever time the steps above took: past
	// the refresh interval, a token naming a kid the IdP never published makes the verifier
	// refetch (and still refuse it).
	c.clock.advance(token.DefaultRefreshInterval + time.Second)
	if _, err := c.direct(withKid(t, oldTok, "never-published")).Converse(ctx, ask("hello", 8)); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("token naming an unpublished kid: %v, want %v", err, connect.CodeUnauthenticated)
	}

	c.idp.RotateKeys()
	newTok := c.machineToken()
	if kidOf(t, newTok) == kidOf(t, oldTok) {
		t.Fatal("the rotation did not change the signing key")
	}
	// The fetch above was moments ago, so the services may not refetch yet: the new key is
	// unknown to them and its token is refused, not let through unchecked.
	if _, err := c.direct(newTok).Converse(ctx, ask("hello", 8)); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("new token right after the rotation (refetch not yet allowed): %v, want %v", err, connect.CodeUnauthenticated)
	}
	if _, err := c.direct(oldTok).Converse(ctx, ask("hello", 8)); err != nil {
		t.Fatalf("old token during the grace period: %v", err)
	}
	if _, err := c.viaBFF(before).Converse(ctx, ask("hello", 8)); err != nil {
		t.Fatalf("session signed in before the rotation: %v", err)
	}

	c.clock.advance(token.DefaultRefreshInterval + time.Second) // past the key set's refresh interval
	if _, err := c.direct(newTok).Converse(ctx, ask("hello", 8)); err != nil {
		t.Fatalf("new token after the refetch: %v", err)
	}
	if _, err := c.direct(oldTok).Converse(ctx, ask("hello", 8)); err != nil {
		t.Fatalf("old token after the refetch, still in grace: %v", err)
	}
	after := c.browser("alice")
	if _, err := c.viaBFF(after).Converse(ctx, ask("hello", 8)); err != nil {
		t.Fatalf("session signed in after the rotation: %v", err)
	}
	// Six calls went through; the two refused tokens booked nothing.
	c.books(6)
}

// withKid returns jwt with its header's kid replaced (the signature no longer matches, which
// a verifier only finds out after looking the kid up).
func withKid(t *testing.T, jwt, kid string) string {
	t.Helper()
	head, rest, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	h["kid"] = kid
	raw, err = json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(raw) + "." + rest
}

func newBrowserNoSignIn(c *chain) *benchBrowser {
	return newBenchBrowser(c.bff)
}

// page is a fetched response, its body read and closed.
type page struct {
	status     string
	statusCode int
	header     http.Header
	body       string
}

// get fetches u with the browser b (following no redirects) and returns the whole response.
func get(t *testing.T, b *benchBrowser, u string) page {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.Status, statusCode: resp.StatusCode, header: resp.Header, body: string(body)}
}

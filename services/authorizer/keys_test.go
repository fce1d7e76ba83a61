package authorizer_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/apikey/sqlitekeys"
	"github.com/portico-dev/portico/services/authorizer"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/token/tokentest"
)

// flaky is a key store that can be made unreachable.
type flaky struct {
	apikey.Store
	down atomic.Bool
}

func (f *flaky) ByHash(ctx context.Context, h string) (apikey.Key, error) {
	if f.down.Load() {
		return apikey.Key{}, apikey.ErrUnavailable
	}
	return f.Store.ByHash(ctx, h)
}

// TestAPIKeys is the authorizer's attack table for personal API keys: a valid key is allowed
// inference and /v1 only, everything else is refused.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	iss := tokentest.Start(t)
	s, err := sqlitekeys.Open(t.Context(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	keys := &flaky{Store: s}
	pol, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	getPol := func() *policy.Policy { return pol }
	seen := apikey.NewSeenRecorder(keys, nil, nil)
	v := apikey.NewVerifier(newVerifier(iss), apikey.NewResolver(apikey.ResolverConfig{Store: keys, Policy: getPol, CacheTTL: time.Nanosecond}), seen)
	a := authorizer.New(v, getPol, slog.New(slog.NewTextHandler(io.Discard, nil)))
	now := time.Now()
	add := func(owner string, mutate func(*apikey.Key)) string {
		secret, _ := apikey.NewSecret(nil)
		k := apikey.Key{ID: apikey.Hash(secret)[:16], Owner: owner, Name: "k", Prefix: apikey.DisplayPrefix(secret), Hash: apikey.Hash(secret),
			Created: now, Expires: now.Add(time.Hour)}
		if mutate != nil {
			mutate(&k)
		}
		if err := keys.Create(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		return secret
	}
	// alice signs in: the authorizer records her groups, which her keys act with.
	if _, err := a.Handle(t.Context(), requestEvent(map[string]string{"Authorization": "Bearer " + iss.AccessToken("alice", "MLUsers")}, methodARN)); err != nil {
		t.Fatal(err)
	}
	if err := keys.PutSeen(t.Context(), apikey.Seen{Owner: "idle", Groups: []string{"MLUsers"}, At: now.Add(-31 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := keys.PutSeen(t.Context(), apikey.Seen{Owner: "bob", At: now}); err != nil {
		t.Fatal(err)
	}
	good := add("alice", nil)
	revoked := add("alice", func(k *apikey.Key) { k.Revoked = now })
	expired := add("alice", func(k *apikey.Key) { k.Expires = now.Add(-time.Second) })
	idle := add("idle", nil)
	noGroup := add("bob", nil)
	unknown, _ := apikey.NewSecret(nil)
	allowKey := []string{stage + "/*/portico.inference.v1.InferenceService/*", stage + "/*/v1/*"}
	tests := []struct {
		name   string
		header string
		allow  bool
	}{
		{"valid key", "Bearer " + good, true},
		{"valid key, lower-case scheme", "bearer " + good, true},
		{"revoked", "Bearer " + revoked, false},
		{"expired", "Bearer " + expired, false},
		{"owner idle", "Bearer " + idle, false},
		{"owner in no policy group", "Bearer " + noGroup, false},
		{"unknown", "Bearer " + unknown, false},
		{"malformed", "Bearer " + good[:30], false},
		{"the key's hash", "Bearer " + apikey.Hash(good), false},
	}
	for _, tt := range tests {
		for kind, event := range map[string][]byte{
			"request": requestEvent(map[string]string{"Authorization": tt.header}, methodARN),
			"token":   tokenEvent(tt.header, methodARN),
		} {
			resp, err := a.Handle(t.Context(), event)
			if !tt.allow {
				if !errors.Is(err, authorizer.ErrUnauthorized) {
					t.Errorf("%s (%s): err = %v, want Unauthorized", tt.name, kind, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s (%s): %v", tt.name, kind, err)
			}
			st := resp.PolicyDocument.Statement
			if len(st) != 1 || st[0].Effect != "Allow" || !slices.Equal(st[0].Resource, allowKey) ||
				resp.Context["apiKey"] != apikey.DisplayPrefix(good) || resp.Context["username"] != "alice" || resp.Context["groups"] != "MLUsers" {
				t.Errorf("%s (%s): %+v", tt.name, kind, resp)
			}
		}
	}
	keys.down.Store(true)
	if _, err := a.Handle(t.Context(), requestEvent(map[string]string{"Authorization": "Bearer " + good}, methodARN)); !errors.Is(err, authorizer.ErrUnavailable) {
		t.Errorf("key store down: err = %v, want ErrUnavailable (not cached, retried)", err)
	}
}

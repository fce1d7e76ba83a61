package apikey_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/apikey/sqlitekeys"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
)

var t0 = time.Date(2026, 5, 14, 10, 0, 0, 0, time.UTC)

// counting is a real SQLite store that counts reads and writes, and can be made to fail.
type counting struct {
	apikey.Store
	reads, touches, seenWrites atomic.Int64
	down                       atomic.Bool
}

func (c *counting) ByHash(ctx context.Context, h string) (apikey.Key, error) {
	c.reads.Add(1)
	if c.down.Load() {
		return apikey.Key{}, apikey.ErrUnavailable
	}
	return c.Store.ByHash(ctx, h)
}

func (c *counting) Seen(ctx context.Context, o string) (apikey.Seen, error) {
	c.reads.Add(1)
	return c.Store.Seen(ctx, o)
}

func (c *counting) Touch(ctx context.Context, o, id string, at time.Time) error {
	c.touches.Add(1)
	return c.Store.Touch(ctx, o, id, at)
}

func (c *counting) PutSeen(ctx context.Context, s apikey.Seen) error {
	c.seenWrites.Add(1)
	return c.Store.PutSeen(ctx, s)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	store *counting
	clock *clock
	res   *apikey.Resolver
	pol   *policy.Policy
}

const testPolicy = `version: 1
keyMaxIdleDays: 30
groups:
  - name: MLUsers
    models: [m1, m2]
  - name: NoKeys
    models: [m1]
    apiKeys: false
`

func newEnv(t *testing.T) *env {
	t.Helper()
	s, err := sqlitekeys.Open(t.Context(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	pol, err := policy.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: &counting{Store: s}, clock: &clock{t: t0}, pol: pol}
	e.res = apikey.NewResolver(apikey.ResolverConfig{Store: e.store, Policy: func() *policy.Policy { return pol }, Now: e.clock.Now})
	return e
}

// add stores a key for owner and returns its secret.
func (e *env) add(t *testing.T, owner, id string, mutate func(*apikey.Key)) string {
	t.Helper()
	secret, err := apikey.NewSecret(nil)
	if err != nil {
		t.Fatal(err)
	}
	k := apikey.Key{ID: id, Owner: owner, Name: id, Prefix: apikey.DisplayPrefix(secret), Hash: apikey.Hash(secret),
		Created: e.clock.Now(), Expires: e.clock.Now().Add(90 * 24 * time.Hour)}
	if mutate != nil {
		mutate(&k)
	}
	if err := e.store.Store.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	return secret
}

func (e *env) seen(t *testing.T, owner string, at time.Time, groups ...string) {
	t.Helper()
	if err := e.store.Store.PutSeen(t.Context(), apikey.Seen{Owner: owner, Subject: "sub-" + owner, Email: owner + "@example.com", Groups: groups, At: at}); err != nil {
		t.Fatal(err)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seen(t, "alice", t0.Add(-time.Hour), "MLUsers")
	secret := e.add(t, "alice", "0000000000000001", func(k *apikey.Key) { k.Models = []string{"m1"} })
	p, err := e.res.Resolve(t.Context(), secret)
	if err != nil {
		t.Fatal(err)
	}
	want := principal.Principal{Kind: principal.KindPerson, Subject: "sub-alice", Username: "alice", Email: "alice@example.com",
		Groups: []string{"MLUsers"}, APIKey: apikey.DisplayPrefix(secret), KeyModels: []string{"m1"}}
	if p.Kind != want.Kind || p.Subject != want.Subject || p.Username != want.Username || p.Email != want.Email ||
		!slices.Equal(p.Groups, want.Groups) || p.APIKey != want.APIKey || !slices.Equal(p.KeyModels, want.KeyModels) || p.ClientID != "" {
		t.Errorf("principal = %+v, want %+v", p, want)
	}
	if ent := e.pol.Entitlements(p); !ent.AllowsModel("m1") || ent.AllowsModel("m2") {
		t.Errorf("entitlements: %v", ent.ModelIDs())
	}
}

// TestResolveRefusals is the attack table of key resolution: each case a precise refusal.
func TestResolveRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seen(t, "alice", t0.Add(-time.Hour), "MLUsers")
	e.seen(t, "idle", t0.Add(-31*24*time.Hour), "MLUsers")
	e.seen(t, "justactive", t0.Add(-30*24*time.Hour+time.Minute), "MLUsers")
	e.seen(t, "nokeys", t0.Add(-time.Hour), "MLUsers", "NoKeys")
	e.seen(t, "gone", t0.Add(-time.Hour))
	good := e.add(t, "alice", "0000000000000001", nil)
	revoked := e.add(t, "alice", "0000000000000002", func(k *apikey.Key) { k.Revoked, k.RevokedBy = t0.Add(-time.Minute), "dana" })
	expired := e.add(t, "alice", "0000000000000003", func(k *apikey.Key) { k.Expires = t0 })
	idle := e.add(t, "idle", "0000000000000004", nil)
	active := e.add(t, "justactive", "0000000000000005", nil)
	neverSeen := e.add(t, "neverseen", "0000000000000006", nil)
	noKeys := e.add(t, "nokeys", "0000000000000007", nil)
	noGroups := e.add(t, "gone", "0000000000000008", nil)
	unknown, _ := apikey.NewSecret(nil)
	tampered := []byte(good)
	tampered[30] ^= 0x01
	if tampered[30] == '-' || tampered[30] == '_' {
		tampered[30] = 'Q'
	}
	tests := []struct {
		name   string
		secret string
		want   error // nil: accepted
		reads  bool  // whether the store may be read
	}{
		{"valid key", good, nil, true},
		{"key of an owner seen just within the idle period", active, nil, true},
		{"revoked", revoked, apikey.ErrRefused, true},
		{"expired at its expiry time", expired, apikey.ErrRefused, true},
		{"owner idle past keyMaxIdleDays", idle, apikey.ErrRefused, true},
		{"owner never seen", neverSeen, apikey.ErrRefused, true},
		{"a group of the owner disables keys", noKeys, apikey.ErrRefused, true},
		{"owner in no policy group any more", noGroups, apikey.ErrRefused, true},
		{"well-formed but unknown", unknown, apikey.ErrRefused, true},
		{"one character changed (checksum)", string(tampered), apikey.ErrMalformed, false},
		{"truncated", good[:len(good)-2], apikey.ErrMalformed, false},
		{"prefix only", apikey.Prefix, apikey.ErrMalformed, false},
		{"hash presented as the key", apikey.Prefix + apikey.Hash(good)[:48], apikey.ErrMalformed, false},
		{"secret with trailing space", good + " ", apikey.ErrMalformed, false},
	}
	for _, tt := range tests {
		before := e.store.reads.Load()
		p, err := e.res.Resolve(t.Context(), tt.secret)
		switch {
		case tt.want == nil && err != nil:
			t.Errorf("%s: refused: %v", tt.name, err)
		case tt.want != nil && (!errors.Is(err, tt.want) || p != nil):
			t.Errorf("%s: got %v, %v; want %v", tt.name, p, err, tt.want)
		}
		if !tt.reads && e.store.reads.Load() != before {
			t.Errorf("%s: the store was read for a malformed key", tt.name)
		}
	}
}

func TestCacheAndRevocation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seen(t, "alice", t0, "MLUsers")
	secret := e.add(t, "alice", "0000000000000001", nil)
	for range 5 {
		if _, err := e.res.Resolve(t.Context(), secret); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.store.reads.Load(); n != 2 { // the key and its owner's sign-in, once
		t.Errorf("store reads after 5 uses = %d, want 2", n)
	}
	if _, err := e.store.Revoke(t.Context(), "alice", "0000000000000001", "dana", t0); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(apikey.CacheTTL - time.Second)
	if _, err := e.res.Resolve(t.Context(), secret); err != nil {
		t.Errorf("within the cache TTL the cached key still answers: %v", err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.res.Resolve(t.Context(), secret); !errors.Is(err, apikey.ErrRefused) {
		t.Errorf("after the cache TTL a revoked key: err = %v, want ErrRefused", err)
	}
	// Forget makes the revoking instance see it at once.
	other := e.add(t, "alice", "0000000000000002", nil)
	if _, err := e.res.Resolve(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Revoke(t.Context(), "alice", "0000000000000002", "alice", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.res.Forget(apikey.Hash(other))
	if _, err := e.res.Resolve(t.Context(), other); !errors.Is(err, apikey.ErrRefused) {
		t.Errorf("after Forget: err = %v", err)
	}
	// An unknown key is cached too: guessing costs one read per guess and TTL.
	unknown, _ := apikey.NewSecret(nil)
	before := e.store.reads.Load()
	for range 3 {
		_, _ = e.res.Resolve(t.Context(), unknown)
	}
	if n := e.store.reads.Load() - before; n != 1 {
		t.Errorf("reads for an unknown key used 3 times = %d, want 1", n)
	}
}

func TestStoreDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seen(t, "alice", t0, "MLUsers")
	secret := e.add(t, "alice", "0000000000000001", nil)
	e.store.down.Store(true)
	v := apikey.NewVerifier(nil, e.res, nil)
	if _, err := v.Verify(t.Context(), secret); !errors.Is(err, authn.ErrUnavailable) || errors.Is(err, apikey.ErrRefused) {
		t.Errorf("store down: err = %v, want authn.ErrUnavailable (retry), not a refusal", err)
	}
}

func TestTouchThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seen(t, "alice", t0, "MLUsers")
	secret := e.add(t, "alice", "0000000000000001", nil)
	for range 3 {
		if _, err := e.res.Resolve(t.Context(), secret); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
	}
	if n := e.store.touches.Load(); n != 1 {
		t.Errorf("touches within TouchInterval = %d, want 1", n)
	}
	e.clock.Advance(apikey.TouchInterval)
	if _, err := e.res.Resolve(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	if n := e.store.touches.Load(); n != 2 {
		t.Errorf("touches after TouchInterval = %d, want 2", n)
	}
	keys, err := e.store.List(t.Context(), "alice")
	if err != nil || len(keys) != 1 || !keys[0].LastUsed.Equal(e.clock.Now()) {
		t.Errorf("last used = %+v, %v", keys, err)
	}
}

type tokens map[string]*principal.Principal

func (f tokens) Verify(_ context.Context, raw string) (*principal.Principal, error) {
	if p, ok := f[raw]; ok {
		return p, nil
	}
	return nil, errors.New("refused")
}

func TestVerifierRecordsSignIns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := &principal.Principal{Kind: principal.KindPerson, Username: "alice", Subject: "sub-a", Groups: []string{"MLUsers"}}
	moved := &principal.Principal{Kind: principal.KindPerson, Username: "alice", Subject: "sub-a", Groups: []string{"MLUsers", "NoKeys"}}
	machine := &principal.Principal{Kind: principal.KindMachine, Username: "m", ClientID: "m"}
	v := apikey.NewVerifier(tokens{"alice": alice, "moved": moved, "machine": machine}, e.res, apikey.NewSeenRecorder(e.store, e.clock.Now, nil))
	for range 3 {
		if _, err := v.Verify(t.Context(), "alice"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.store.seenWrites.Load(); n != 1 {
		t.Errorf("sign-in writes for 3 uses = %d, want 1", n)
	}
	secret := e.add(t, "alice", "0000000000000001", nil)
	if p, err := v.Verify(t.Context(), secret); err != nil || p.APIKey == "" {
		t.Fatalf("key after a sign-in: %v, %v", p, err)
	}
	if n := e.store.seenWrites.Load(); n != 1 {
		t.Errorf("a key's use recorded a sign-in (writes = %d): a key must never keep itself alive", n)
	}
	if _, err := v.Verify(t.Context(), "machine"); err != nil || e.store.seenWrites.Load() != 1 {
		t.Errorf("a machine client's token recorded a sign-in")
	}
	// New groups are written at once, and the key follows them once its cache entry expires.
	if _, err := v.Verify(t.Context(), "moved"); err != nil || e.store.seenWrites.Load() != 2 {
		t.Errorf("changed groups: writes = %d, %v", e.store.seenWrites.Load(), err)
	}
	e.clock.Advance(apikey.CacheTTL)
	if _, err := v.Verify(t.Context(), secret); !errors.Is(err, apikey.ErrRefused) {
		t.Errorf("owner moved into a group without keys: err = %v", err)
	}
	e.clock.Advance(apikey.SeenInterval)
	if _, err := v.Verify(t.Context(), "moved"); err != nil || e.store.seenWrites.Load() != 3 {
		t.Errorf("after SeenInterval: writes = %d, %v", e.store.seenWrites.Load(), err)
	}
	if _, err := apikey.NewVerifier(tokens{}, nil, nil).Verify(t.Context(), secret); err == nil {
		t.Error("a deployment without a key store accepted a key")
	}
	if _, err := v.Verify(t.Context(), "nope"); err == nil {
		t.Error("unknown token accepted")
	}
}

// TestReadOnlyNeverWrites: the authorizer's resolver (ReadOnly) resolves keys without
// recording their use, however often and however long apart.
func TestReadOnlyNeverWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seen(t, "alice", t0, "MLUsers")
	secret := e.add(t, "alice", "0000000000000001", nil)
	ro := apikey.NewResolver(apikey.ResolverConfig{Store: e.store, Policy: func() *policy.Policy { return e.pol }, Now: e.clock.Now, ReadOnly: true})
	for range 3 {
		if _, err := ro.Resolve(t.Context(), secret); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * apikey.TouchInterval)
	}
	if n := e.store.touches.Load(); n != 0 {
		t.Errorf("a read-only resolver touched the key %d times", n)
	}
}

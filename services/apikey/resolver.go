package apikey

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
)

// Defaults of a Resolver.
const (
	// CacheTTL is how long a Resolver keeps what it read about a key (found or not): the
	// longest a revocation, or a change of the owner's groups, takes to be seen.
	CacheTTL = 30 * time.Second
	// TouchInterval is the least time between two writes of a key's last use by one
	// instance.
	TouchInterval = 5 * time.Minute
	// maxCached bounds the cache; past it, expired entries are dropped, then everything.
	maxCached = 10_000
	// writeTimeout bounds the throttled writes (last use, last sign-in) on the request path.
	writeTimeout = 2 * time.Second
)

// ErrRefused wraps every reason a well-formed key is refused (unknown, revoked, expired,
// owner idle, keys disabled for the owner's groups); authn answers it as an invalid token.
var ErrRefused = errors.New("apikey: key refused")

// Resolver turns secrets into their owners' principals, caching what it reads. It is safe
// for concurrent use.
type Resolver struct {
	store  Store
	policy func() *policy.Policy
	now    func() time.Time
	log    *slog.Logger
	ttl    time.Duration
	// readOnly: never record a key's last use (ResolverConfig.ReadOnly).
	readOnly bool

	mu      sync.Mutex
	entries map[string]*entry // by hash
}

type entry struct {
	found   bool
	key     Key
	seen    Seen
	hasSeen bool
	until   time.Time
	touched time.Time // last write of the key's last use by this instance
}

// ResolverConfig configures a Resolver.
type ResolverConfig struct {
	// Store holds the keys; required.
	Store Store
	// Policy returns the policy in force; required.
	Policy func() *policy.Policy
	// Logger receives refusals and failed writes (never secrets); nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CacheTTL replaces the package's CacheTTL when positive.
	CacheTTL time.Duration
	// ReadOnly resolves keys without recording their last use: the authorizer's setting,
	// whose role may only read the key table (the services behind it record the use).
	ReadOnly bool
}

// NewResolver returns a Resolver for cfg.
func NewResolver(cfg ResolverConfig) *Resolver {
	r := &Resolver{store: cfg.Store, policy: cfg.Policy, now: cfg.Now, log: cfg.Logger, ttl: cfg.CacheTTL, readOnly: cfg.ReadOnly, entries: map[string]*entry{}}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.ttl <= 0 {
		r.ttl = CacheTTL
	}
	return r
}

// Resolve returns the principal secret acts as: its owner, a person, with the groups of the
// owner's last sign-in, APIKey set to the key's prefix and KeyModels to its models. A
// malformed secret is ErrMalformed (no store read); a refused key wraps ErrRefused; a store
// that cannot be read wraps ErrUnavailable.
func (r *Resolver) Resolve(ctx context.Context, secret string) (*principal.Principal, error) {
	if err := Check(secret); err != nil {
		return nil, err
	}
	hash := Hash(secret)
	now := r.now()
	e, err := r.lookup(ctx, hash, now)
	if err != nil {
		return nil, err
	}
	k := e.key
	pol := r.policy()
	switch {
	case !e.found:
		return nil, fmt.Errorf("%w: unknown key", ErrRefused)
	case !k.Revoked.IsZero():
		return nil, fmt.Errorf("%w: key %s of %s was revoked", ErrRefused, k.Prefix, k.Owner)
	case !now.Before(k.Expires):
		return nil, fmt.Errorf("%w: key %s of %s expired", ErrRefused, k.Prefix, k.Owner)
	case !e.hasSeen:
		return nil, fmt.Errorf("%w: the owner of key %s has no recorded sign-in", ErrRefused, k.Prefix)
	case now.Sub(e.seen.At) > pol.KeyMaxIdle():
		return nil, fmt.Errorf("%w: the owner of key %s has not signed in for more than %d days", ErrRefused, k.Prefix, pol.KeyMaxIdleDays())
	}
	p := &principal.Principal{
		Kind: principal.KindPerson, Subject: e.seen.Subject, Username: k.Owner, Email: e.seen.Email,
		DisplayName: e.seen.DisplayName, Department: e.seen.Department, Groups: e.seen.Groups,
		APIKey: k.Prefix, KeyModels: k.Models, ExpiresAt: k.Expires,
	}
	if !pol.KeysAllowed(p) {
		return nil, fmt.Errorf("%w: API keys are disabled for the groups of %s", ErrRefused, k.Owner)
	}
	r.touch(ctx, hash, e, now)
	return p, nil
}

// lookup returns the cached entry for hash, reading the store when there is none or it
// expired.
func (r *Resolver) lookup(ctx context.Context, hash string, now time.Time) (entry, error) {
	r.mu.Lock()
	e, ok := r.entries[hash]
	if ok && now.Before(e.until) {
		out := *e
		r.mu.Unlock()
		return out, nil
	}
	r.mu.Unlock()

	fresh := entry{until: now.Add(r.ttl)}
	k, err := r.store.ByHash(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return entry{}, err
	default:
		fresh.found, fresh.key = true, k
		s, err := r.store.Seen(ctx, k.Owner)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return entry{}, err
		default:
			fresh.seen, fresh.hasSeen = s, true
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok {
		fresh.touched = e.touched
	}
	if len(r.entries) >= maxCached {
		for h, old := range r.entries {
			if !now.Before(old.until) {
				delete(r.entries, h)
			}
		}
		if len(r.entries) >= maxCached {
			clear(r.entries)
		}
	}
	r.entries[hash] = &fresh
	return fresh, nil
}

// touch records the key's use at most every TouchInterval per instance (and not when the
// stored last use is that recent). A failed write is logged: it never fails the call.
func (r *Resolver) touch(ctx context.Context, hash string, e entry, now time.Time) {
	if r.readOnly {
		return
	}
	if now.Sub(e.touched) < TouchInterval || now.Sub(e.key.LastUsed) < TouchInterval {
		return
	}
	r.mu.Lock()
	if cur, ok := r.entries[hash]; ok {
		if now.Sub(cur.touched) < TouchInterval {
			r.mu.Unlock()
			return
		}
		cur.touched = now
	}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := r.store.Touch(ctx, e.key.Owner, e.key.ID, now); err != nil {
		r.log.LogAttrs(ctx, slog.LevelWarn, "apikey: recording a key's last use failed",
			slog.String("key", e.key.Prefix), slog.String("error", err.Error()))
	}
}

// Forget drops what the cache holds about the key of hash, so that this instance sees a
// revocation it made at once (other instances see it within the cache TTL).
func (r *Resolver) Forget(hash string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.entries, hash)
}

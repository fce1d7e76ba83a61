package apikey

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/principal"
)

// SeenInterval is the least time between two writes of one person's last sign-in by one
// instance (a change of groups is written at once).
const SeenInterval = 5 * time.Minute

// maxSeen bounds the people a SeenRecorder remembers; past it, it forgets them all.
const maxSeen = 100_000

// SeenRecorder records people's last sign-in: their groups and the time whenever a sign-in
// token of theirs is used, at most once every SeenInterval per person and instance. It is
// safe for concurrent use.
type SeenRecorder struct {
	store Store
	now   func() time.Time
	log   *slog.Logger

	mu   sync.Mutex
	last map[string]sighting // by owner
}

type sighting struct {
	at     time.Time
	groups []string
}

// NewSeenRecorder returns a SeenRecorder writing to store; now nil means time.Now, logger
// nil discards failed writes.
func NewSeenRecorder(store Store, now func() time.Time, logger *slog.Logger) *SeenRecorder {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &SeenRecorder{store: store, now: now, log: logger, last: map[string]sighting{}}
}

// Note records p's sign-in unless this instance wrote it less than SeenInterval ago with the
// same groups. Only people signed in with a token count: machine clients and API keys (a key
// never keeps its owner's keys alive) are ignored. A failed write is logged, never returned.
func (s *SeenRecorder) Note(ctx context.Context, p *principal.Principal) {
	if p == nil || p.Kind != principal.KindPerson || p.APIKey != "" || p.Username == "" {
		return
	}
	now := s.now()
	s.mu.Lock()
	last, ok := s.last[p.Username]
	if ok && now.Sub(last.at) < SeenInterval && slices.Equal(last.groups, p.Groups) {
		s.mu.Unlock()
		return
	}
	if len(s.last) >= maxSeen {
		clear(s.last)
	}
	s.last[p.Username] = sighting{at: now, groups: slices.Clone(p.Groups)}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	if err := s.Record(ctx, p); err != nil {
		s.mu.Lock()
		delete(s.last, p.Username) // try again next time
		s.mu.Unlock()
		s.log.LogAttrs(ctx, slog.LevelWarn, "apikey: recording a sign-in failed", slog.String("user", p.Username), slog.String("error", err.Error()))
	}
}

// Record writes p's sign-in now, whatever was written before.
func (s *SeenRecorder) Record(ctx context.Context, p *principal.Principal) error {
	return s.store.PutSeen(ctx, Seen{Owner: p.Username, Subject: p.Subject, Email: p.Email, DisplayName: p.DisplayName,
		Department: p.Department, Groups: slices.Clone(p.Groups), At: s.now()})
}

// Verifier is an authn.TokenVerifier that accepts personal API keys besides the tokens of
// the wrapped verifier, and records the sign-in of every person whose token it verifies.
type Verifier struct {
	tokens authn.TokenVerifier
	keys   *Resolver
	seen   *SeenRecorder
}

// NewVerifier returns a Verifier: secrets starting with Prefix go to keys (nil: every key
// is refused, API keys being off), everything else to tokens; the people tokens verify are
// noted by seen (nil: none).
func NewVerifier(tokens authn.TokenVerifier, keys *Resolver, seen *SeenRecorder) *Verifier {
	return &Verifier{tokens: tokens, keys: keys, seen: seen}
}

// errKeysOff refuses keys where no key store is configured.
var errKeysOff = errors.New("apikey: API keys are not enabled on this deployment")

// Verify returns the caller of raw. See authn.TokenVerifier. A key store that cannot be
// read is authn.ErrUnavailable.
func (v *Verifier) Verify(ctx context.Context, raw string) (*principal.Principal, error) {
	if IsKey(raw) {
		if v.keys == nil {
			return nil, errKeysOff
		}
		p, err := v.keys.Resolve(ctx, raw)
		if errors.Is(err, ErrUnavailable) {
			return nil, errors.Join(authn.ErrUnavailable, err)
		}
		return p, err
	}
	p, err := v.tokens.Verify(ctx, raw)
	if err == nil && v.seen != nil {
		v.seen.Note(ctx, p)
	}
	return p, err
}

package livepolicy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/store"
)

// Mode says where the policy is managed.
type Mode string

// The modes (PORTICO_POLICY_MODE).
const (
	// ModeStore: the policy is versioned data in the store; the file seeds an empty store.
	ModeStore Mode = "store"
	// ModeFile: the file is the policy; nothing edits it at run time.
	ModeFile Mode = "file"
)

// ParseMode reads PORTICO_POLICY_MODE: store (also when empty) or file.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case "", ModeStore:
		return ModeStore, nil
	case ModeFile:
		return ModeFile, nil
	}
	return "", fmt.Errorf("unknown policy mode %q, want %s or %s", s, ModeStore, ModeFile)
}

// DefaultRefresh is the default interval between version checks (PORTICO_POLICY_REFRESH):
// with it, every instance applies a new version within about twice that.
const DefaultRefresh = 5 * time.Second

// Config configures a Source.
type Config struct {
	// Mode is ModeStore or ModeFile (empty means ModeStore).
	Mode Mode
	// Store keeps the versions; required in ModeStore, unused in ModeFile.
	Store store.PolicyStore
	// Seed is the policy file's YAML: the policy in ModeFile, the first version of an empty
	// store in ModeStore; required.
	Seed []byte
	// SeedSource names the file in messages.
	SeedSource string
	// Options validate every version (the catalog's model ids and endpoint names).
	Options []policy.Option
	// Refresh is the interval between version checks; 0 means DefaultRefresh.
	Refresh time.Duration
	// Logger receives refresh failures and applied versions; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ReadOnly, in ModeStore, reads the store's versions and writes none: an empty store
	// serves Seed, a changed file is not imported, and edits are refused (ErrFileMode). For
	// processes that only decide, such as the API Gateway authorizer.
	ReadOnly bool
}

// Snapshot is the policy in force and the version it comes from. It is immutable.
type Snapshot struct {
	// Policy is the compiled policy.
	Policy *policy.Policy
	// Version describes the version (in ModeFile: version 0, kind seed); its YAML is the
	// policy's text.
	Version store.PolicyVersion
}

// Source holds the policy in force and keeps it current: Policy is its getter, which every
// handler calls per decision. A new version is compiled off the request path and swapped in
// atomically, so a decision sees one whole policy, old or new, and never waits for a reload.
// It is safe for concurrent use.
type Source struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	refresh time.Duration

	cur atomic.Pointer[Snapshot]
	// next is when (Unix nanos) the next version check is due; checking is held by the one
	// check in flight.
	next     atomic.Int64
	checking atomic.Bool
	// failed is the version that last failed to compile, not read again until another is
	// written.
	failed atomic.Int64

	ctx    context.Context // background checks run under it; cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	write  sync.Mutex // serialises this instance's writes (the store serialises all of them)
}

// ErrFileMode is matched by the error of a write in ModeFile. Map it to FAILED_PRECONDITION.
var ErrFileMode = errors.New("the policy is managed by file (PORTICO_POLICY_MODE=file): edit the file and redeploy")

// Open compiles the policy in force and returns its Source. In ModeStore it seeds an empty
// store with the file (as version 1; if another instance seeds it first, that one's is kept)
// and compiles the latest version: a latest version that does not compile (it names a model
// the catalog no longer has) fails Open, as an invalid file would. Open does not start the
// periodic check: call Run.
func Open(ctx context.Context, cfg Config) (*Source, error) {
	if cfg.Mode == "" {
		cfg.Mode = ModeStore
	}
	s := &Source{cfg: cfg, log: cfg.Logger, now: cfg.Now, refresh: cfg.Refresh}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.refresh <= 0 {
		s.refresh = DefaultRefresh
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	seed, err := s.compile(cfg.Seed, cfg.SeedSource)
	if err != nil {
		s.cancel()
		return nil, err
	}
	if cfg.Mode == ModeFile {
		s.cur.Store(&Snapshot{Policy: seed, Version: store.PolicyVersion{Kind: store.PolicySeed, YAML: string(cfg.Seed)}})
		return s, nil
	}
	if cfg.Store == nil {
		s.cancel()
		return nil, errors.New("policy: store mode needs a store")
	}
	latest, err := cfg.Store.LatestPolicyVersion(ctx)
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("policy: %w", err)
	}
	if latest == 0 && cfg.ReadOnly {
		s.cur.Store(&Snapshot{Policy: seed, Version: store.PolicyVersion{Kind: store.PolicySeed, YAML: string(cfg.Seed)}})
		s.next.Store(s.now().Add(s.refresh).UnixNano())
		return s, nil
	}
	if latest == 0 {
		v := store.PolicyVersion{Version: 1, Time: s.now().UTC(), Kind: store.PolicySeed,
			Comment: "imported from " + cfg.SeedSource, YAML: string(cfg.Seed)}
		switch err := cfg.Store.AddPolicyVersion(ctx, v); {
		case err == nil:
			s.log.LogAttrs(ctx, slog.LevelInfo, "policy: the store had no policy; the file is version 1", slog.String("file", cfg.SeedSource))
		case errors.Is(err, store.ErrStaleVersion): // another instance seeded it first
		default:
			s.cancel()
			return nil, fmt.Errorf("policy: seed the store: %w", err)
		}
		if latest, err = cfg.Store.LatestPolicyVersion(ctx); err != nil {
			s.cancel()
			return nil, fmt.Errorf("policy: %w", err)
		}
	}
	snap, err := s.load(ctx, latest)
	if err != nil {
		s.cancel()
		return nil, err
	}
	if !cfg.ReadOnly {
		if snap, err = s.reseed(ctx, snap); err != nil {
			s.cancel()
			return nil, err
		}
	}
	s.cur.Store(snap)
	s.next.Store(s.now().Add(s.refresh).UnixNano())
	return s, nil
}

// reseed writes the file as a new seed version when the latest version is a seed of other
// content: while nobody has edited the policy in the app, the file stays the policy (a
// redeploy with a changed file applies it). Once an edit was made, the store is the policy and
// a file that differs is only logged.
func (s *Source) reseed(ctx context.Context, snap *Snapshot) (*Snapshot, error) {
	if snap.Version.YAML == string(s.cfg.Seed) {
		return snap, nil
	}
	if snap.Version.Kind != store.PolicySeed {
		s.log.LogAttrs(ctx, slog.LevelWarn, "policy: the policy file differs from the policy in force, which was edited in the app; the store's version stays",
			slog.String("file", s.cfg.SeedSource), slog.Int64("version", snap.Version.Version))
		return snap, nil
	}
	p, err := s.compile(s.cfg.Seed, s.cfg.SeedSource)
	if err != nil {
		return nil, err
	}
	v := store.PolicyVersion{Version: snap.Version.Version + 1, Time: s.now().UTC(), Kind: store.PolicySeed,
		Comment: "imported from " + s.cfg.SeedSource + " (changed since the last import, no edit made in the app)",
		Changes: policy.Changes([]byte(snap.Version.YAML), s.cfg.Seed), YAML: string(s.cfg.Seed)}
	switch err := s.cfg.Store.AddPolicyVersion(ctx, v); {
	case err == nil:
		s.log.LogAttrs(ctx, slog.LevelInfo, "policy: imported the changed policy file", slog.String("file", s.cfg.SeedSource),
			slog.Int64("version", v.Version))
		return &Snapshot{Policy: p, Version: v}, nil
	case errors.Is(err, store.ErrStaleVersion): // another instance wrote one first: take the latest
		latest, err := s.cfg.Store.LatestPolicyVersion(ctx)
		if err != nil {
			return nil, fmt.Errorf("policy: %w", err)
		}
		return s.load(ctx, latest)
	default:
		return nil, fmt.Errorf("policy: import the changed file: %w", err)
	}
}

// compile validates and compiles a policy document under the configured options.
func (s *Source) compile(doc []byte, source string, extra ...policy.Option) (*policy.Policy, error) {
	opts := append(append([]policy.Option{policy.WithSource(source)}, s.cfg.Options...), extra...)
	p, err := policy.Parse(doc, opts...)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return p, nil
}

// load reads and compiles one version.
func (s *Source) load(ctx context.Context, n int64) (*Snapshot, error) {
	v, err := s.cfg.Store.PolicyVersion(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	p, err := s.compile([]byte(v.YAML), fmt.Sprintf("version %d", n))
	if err != nil {
		return nil, err
	}
	return &Snapshot{Policy: p, Version: v}, nil
}

// Mode returns where the policy is managed.
func (s *Source) Mode() Mode { return s.cfg.Mode }

// Policy returns the policy in force: the getter handlers take (func() *policy.Policy). It
// never blocks: when a version check is due, it starts one in the background (at most one at
// a time) and returns the policy it has. On Lambda, where nothing runs between invocations,
// this is what keeps an instance current; standalone, Run checks on a timer as well.
func (s *Source) Policy() *policy.Policy {
	if s.cfg.Mode == ModeStore && s.now().UnixNano() >= s.next.Load() {
		s.checkInBackground()
	}
	return s.cur.Load().Policy
}

// Snapshot returns the policy in force with its version, as Policy does.
func (s *Source) Snapshot() *Snapshot {
	s.Policy()
	return s.cur.Load()
}

// checkInBackground starts a version check unless one is running.
func (s *Source) checkInBackground() {
	if !s.checking.CompareAndSwap(false, true) {
		return
	}
	s.wg.Go(func() {
		defer s.checking.Store(false)
		_ = s.check(s.ctx)
	})
}

// Run checks the version every refresh interval until ctx ends or Close; call it in its own
// goroutine. Requests never wait for it.
func (s *Source) Run(ctx context.Context) {
	if s.cfg.Mode != ModeStore {
		return
	}
	t := time.NewTicker(s.refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.ctx.Done():
			return
		case <-t.C:
			if s.checking.CompareAndSwap(false, true) {
				_ = s.check(ctx)
				s.checking.Store(false)
			}
		}
	}
}

// Refresh checks the version now and applies a new one before returning (tests, and the
// instance that wrote it).
func (s *Source) Refresh(ctx context.Context) error {
	if s.cfg.Mode != ModeStore {
		return nil
	}
	return s.check(ctx)
}

// check reads the latest version number (one small read) and, when it is not the one in
// force, reads, compiles and swaps in that version. A version that does not compile is
// logged and skipped until a newer one is written; the policy in force stays.
func (s *Source) check(ctx context.Context) error {
	s.next.Store(s.now().Add(s.refresh).UnixNano())
	latest, err := s.cfg.Store.LatestPolicyVersion(ctx)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "policy: version check failed; the policy in force stays", slog.Any("error", err))
		return err
	}
	cur := s.cur.Load()
	if latest <= cur.Version.Version || latest == s.failed.Load() {
		return nil
	}
	snap, err := s.load(ctx, latest)
	if err != nil {
		if !errors.Is(err, store.ErrUnavailable) {
			s.failed.Store(latest)
		}
		s.log.LogAttrs(ctx, slog.LevelError, "policy: a new version could not be applied; the policy in force stays",
			slog.Int64("version", latest), slog.Int64("in_force", cur.Version.Version), slog.Any("error", err))
		return err
	}
	s.swap(snap)
	return nil
}

// swap installs snap unless a newer version is already in force.
func (s *Source) swap(snap *Snapshot) {
	for {
		cur := s.cur.Load()
		if snap.Version.Version <= cur.Version.Version {
			return
		}
		if s.cur.CompareAndSwap(cur, snap) {
			s.log.LogAttrs(s.ctx, slog.LevelInfo, "policy: applied a new version", slog.Int64("version", snap.Version.Version),
				slog.Int64("previous", cur.Version.Version), slog.String("kind", snap.Version.Kind))
			return
		}
	}
}

// Close stops the background checks and waits for one in flight.
func (s *Source) Close() {
	s.cancel()
	s.wg.Wait()
}

// trimmed returns s without surrounding white space, for comments.
func trimmed(s string) string { return strings.TrimSpace(s) }

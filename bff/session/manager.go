package session

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/portico-dev/portico/bff/cookie"
)

// Errors returned by the Manager. ErrNoSession, ErrInvalid and ErrExpired are definitive:
// "not signed in". ErrUnavailable is not: the session may be fine, the store is not.
var (
	// ErrNoSession reports a request without a session cookie.
	ErrNoSession = errors.New("session: none")
	// ErrInvalid reports a session cookie that does not open or decode, or a ticket the
	// store does not know (ErrNotFound).
	ErrInvalid = errors.New("session: invalid")
	// ErrExpired reports a session past its absolute end or idle for too long.
	ErrExpired = errors.New("session: expired")
	// ErrUnavailable reports a store that failed (a timeout, a throttle, a dropped
	// connection) rather than answered. The session is kept: the caller answers
	// 503 Unavailable with Retry-After and leaves the cookie alone.
	ErrUnavailable = errors.New("session: store unavailable")
)

// DefaultIdleTimeout ends a session nobody has used for this long.
const DefaultIdleTimeout = 8 * time.Hour

// Manager loads, saves and clears sessions. It is safe for concurrent use.
type Manager struct {
	jar    *cookie.Jar
	store  Store
	idle   time.Duration
	now    func() time.Time
	opened *openedCache // cookie mode only
	codec  codec        // cookie mode only
}

// Options configure a Manager.
type Options struct {
	// Store keeps sessions on the server; nil seals the whole session into the cookie.
	Store Store
	// IdleTimeout ends unused sessions; zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// Now replaces time.Now in tests.
	Now func() time.Time
	// OpenedCacheSize bounds how many cookie sessions (no Store) are kept opened in memory;
	// zero means DefaultOpenedCacheSize, a negative value keeps none.
	OpenedCacheSize int
}

// NewManager returns a Manager that keeps its cookie in jar.
func NewManager(jar *cookie.Jar, opts Options) *Manager {
	m := &Manager{jar: jar, store: opts.Store, idle: opts.IdleTimeout, now: opts.Now}
	if m.idle <= 0 {
		m.idle = DefaultIdleTimeout
	}
	if m.now == nil {
		m.now = time.Now
	}
	size := opts.OpenedCacheSize
	if size == 0 {
		size = DefaultOpenedCacheSize
	}
	m.opened = newOpenedCache(size)
	return m
}

// Now returns the manager's current time.
func (m *Manager) Now() time.Time { return m.now() }

// IdleTimeout returns how long an unused session lives.
func (m *Manager) IdleTimeout() time.Duration { return m.idle }

// Load returns the request's session. A store that fails (rather than answering
// ErrNotFound) gives ErrUnavailable, never ErrInvalid.
func (m *Manager) Load(r *http.Request) (*Session, error) {
	sealed, err := m.jar.ReadSealed(r)
	if errors.Is(err, cookie.ErrNoCookie) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	s, cached := (*Session)(nil), false
	if m.store == nil {
		s, cached = m.opened.get(sealed)
	}
	if !cached {
		raw, err := m.jar.Open(sealed)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if m.store != nil {
			s, err = m.store.Load(r.Context(), string(raw))
			if err != nil {
				return nil, storeError(err)
			}
		} else {
			if s, err = m.codec.decode(raw); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
			}
			m.opened.put(sealed, s)
		}
	}
	now := m.now()
	if !now.Before(s.Expires) || !now.Before(s.LastSeen.Add(m.idle)) {
		return nil, ErrExpired
	}
	return s, nil
}

// NeedsTouch reports whether s was last seen long enough ago that saving it again is worth
// a new cookie, to keep the idle timeout from ending a session in use.
func (m *Manager) NeedsTouch(s *Session) bool {
	return m.now().Sub(s.LastSeen) > min(m.idle/8, 5*time.Minute)
}

// Save writes s (with LastSeen set to now) to the response: sealed into the cookie, or to
// the store with its ticket in the cookie. With a store, a session never saved before (zero
// LastSeen) is created and a loaded one updated; when the store no longer holds it (it was
// revoked, say, while a refresh was in flight) Save clears the cookie and fails with
// ErrInvalid, so a late write never revives it. A store that fails gives ErrUnavailable
// and leaves the cookie as it was.
func (m *Manager) Save(w http.ResponseWriter, r *http.Request, s *Session) error {
	now := m.now()
	isNew := s.LastSeen.IsZero()
	s.LastSeen = now
	var payload []byte
	if m.store != nil {
		var err error
		if isNew {
			err = m.store.Create(r.Context(), s)
		} else {
			err = m.store.Update(r.Context(), s)
		}
		if errors.Is(err, ErrNotFound) {
			m.jar.Clear(w, r)
			return fmt.Errorf("save session: %w: %w", ErrInvalid, err)
		}
		if err != nil {
			return fmt.Errorf("save session: %w: %w", ErrUnavailable, err)
		}
		payload = []byte(s.ID)
	} else {
		var err error
		if payload, err = m.codec.encode(s); err != nil {
			return err
		}
	}
	if err := m.jar.Write(w, r, payload, s.Expires.Sub(now)); err != nil {
		return fmt.Errorf("write session cookie: %w", err)
	}
	return nil
}

// Clear ends the request's session: it deletes the stored session (when there is a store and
// the ticket opens) and expires every session cookie the request carries. When the store
// fails to delete, Clear returns ErrUnavailable and keeps the cookie: the session still
// lives on the server, and the browser must be able to try again.
func (m *Manager) Clear(w http.ResponseWriter, r *http.Request) error {
	if m.store != nil {
		if raw, readErr := m.jar.Read(r); readErr == nil {
			if err := m.store.Delete(r.Context(), string(raw)); err != nil {
				return fmt.Errorf("delete session: %w: %w", ErrUnavailable, err)
			}
		}
	} else if sealed, err := m.jar.ReadSealed(r); err == nil {
		m.opened.forget(sealed)
	}
	m.jar.Clear(w, r)
	return nil
}

// storeError classifies an error of Store.Load: ErrNotFound ends the session (ErrInvalid);
// anything else is the store failing (ErrUnavailable).
func storeError(err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

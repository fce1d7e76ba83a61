package session

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Errors a Store returns.
var (
	// ErrNotFound reports a session a Store does not hold (never saved, deleted, revoked or
	// expired), or holds in a form that no longer opens (sealed with a key the BFF has
	// dropped, or altered): a definitive answer that ends the session.
	ErrNotFound = errors.New("session: not found")
	// ErrExists reports a Create under an id the Store already holds.
	ErrExists = errors.New("session: already exists")
)

// Store keeps sessions on the server, so that the cookie carries only a ticket (the session
// id) and a session can be revoked from the server side. MemoryStore serves one process;
// bff/session/sqlitesession serves one machine and bff/session/dynamosession a fleet of
// Lambda instances. bff/session/sessiontest checks an implementation against this contract.
//
// Only ErrNotFound (and ErrExists) are answers about the session. Any other error is the
// store failing (a timeout, a throttle, a dropped connection): the Manager reports it as
// ErrUnavailable and never ends a session over it.
type Store interface {
	// Load returns the session saved under id, or ErrNotFound (also once it has expired).
	Load(ctx context.Context, id string) (*Session, error)
	// Create stores a new session under s.ID until s.Expires, or fails with ErrExists when a
	// live session already has that id.
	Create(ctx context.Context, s *Session) error
	// Update rewrites the session saved under s.ID, or fails with ErrNotFound when the store
	// no longer holds it: an update (a late refresh, say) never brings back a session that
	// was deleted or has expired.
	Update(ctx context.Context, s *Session) error
	// Delete removes the session saved under id; deleting a missing session is not an error.
	Delete(ctx context.Context, id string) error
}

// MemoryStore is a Store in this process's memory. It suits one standalone server; sessions
// end when the process does.
type MemoryStore struct {
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]Session
	sweepAt  time.Time
}

// NewMemoryStore returns an empty MemoryStore. now may be nil (time.Now).
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, sessions: make(map[string]Session)}
}

// Load implements Store.
func (m *MemoryStore) Load(_ context.Context, id string) (*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[id]
	if !ok || !m.now().Before(s.Expires) {
		return nil, ErrNotFound
	}
	return &s, nil
}

// Create implements Store. It also drops expired sessions, at most once a minute.
func (m *MemoryStore) Create(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.After(m.sweepAt) {
		for id, old := range m.sessions {
			if !now.Before(old.Expires) {
				delete(m.sessions, id)
			}
		}
		m.sweepAt = now.Add(time.Minute)
	}
	if old, ok := m.sessions[s.ID]; ok && now.Before(old.Expires) {
		return ErrExists
	}
	m.sessions[s.ID] = *s
	return nil
}

// Update implements Store.
func (m *MemoryStore) Update(_ context.Context, s *Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.sessions[s.ID]; !ok || !m.now().Before(old.Expires) {
		return ErrNotFound
	}
	m.sessions[s.ID] = *s
	return nil
}

// Delete implements Store.
func (m *MemoryStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, id)
	return nil
}

// Len returns how many sessions the store holds, expired ones included until swept.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

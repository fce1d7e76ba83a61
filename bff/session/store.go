package session

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrNotFound reports a session a Store does not hold (never saved, deleted or expired).
var ErrNotFound = errors.New("session: not found")

// Store keeps sessions on the server, so that the cookie carries only a ticket and a session
// can be revoked from the server side. Production deployments that need this would implement
// it on DynamoDB (partition key the session id, a TTL attribute on Expires); MemoryStore
// serves one process.
type Store interface {
	// Load returns the session saved under id, or ErrNotFound.
	Load(ctx context.Context, id string) (*Session, error)
	// Save stores s under s.ID until s.Expires.
	Save(ctx context.Context, s *Session) error
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

// Save implements Store. It also drops expired sessions, at most once a minute.
func (m *MemoryStore) Save(_ context.Context, s *Session) error {
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

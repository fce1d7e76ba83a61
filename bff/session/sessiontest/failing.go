package sessiontest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/portico-dev/portico/bff/session"
)

// ErrInjected is the error a Failing store returns for a failed operation: to the BFF it
// looks like a DynamoDB throttle, a timeout or a dropped connection — a store that did not
// answer, as opposed to one that said session.ErrNotFound.
var ErrInjected = errors.New("sessiontest: injected store failure")

// Op names a session.Store method.
type Op string

// The operations of a session.Store.
const (
	OpLoad   Op = "Load"
	OpCreate Op = "Create"
	OpUpdate Op = "Update"
	OpDelete Op = "Delete"
)

// Failing wraps a session.Store and fails the operations it is told to, on demand, without
// calling the wrapped store. It is safe for concurrent use.
type Failing struct {
	store session.Store

	mu      sync.Mutex
	failing map[Op]bool
	failed  map[Op]int
}

var _ session.Store = (*Failing)(nil)

// NewFailing returns a Failing around st that fails nothing until told to.
func NewFailing(st session.Store) *Failing {
	return &Failing{store: st, failing: make(map[Op]bool), failed: make(map[Op]int)}
}

// Fail makes ops (every operation when none is named) fail until Heal.
func (f *Failing) Fail(ops ...Op) {
	if len(ops) == 0 {
		ops = []Op{OpLoad, OpCreate, OpUpdate, OpDelete}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, op := range ops {
		f.failing[op] = true
	}
}

// Heal makes every operation reach the wrapped store again.
func (f *Failing) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.failing)
}

// Failed returns how many calls of op have failed so far.
func (f *Failing) Failed(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed[op]
}

// check returns the injected error when op is failing.
func (f *Failing) check(op Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.failing[op] {
		return nil
	}
	f.failed[op]++
	return fmt.Errorf("%s: %w", op, ErrInjected)
}

// Load implements session.Store.
func (f *Failing) Load(ctx context.Context, id string) (*session.Session, error) {
	if err := f.check(OpLoad); err != nil {
		return nil, err
	}
	return f.store.Load(ctx, id)
}

// Create implements session.Store.
func (f *Failing) Create(ctx context.Context, s *session.Session) error {
	if err := f.check(OpCreate); err != nil {
		return err
	}
	return f.store.Create(ctx, s)
}

// Update implements session.Store.
func (f *Failing) Update(ctx context.Context, s *session.Session) error {
	if err := f.check(OpUpdate); err != nil {
		return err
	}
	return f.store.Update(ctx, s)
}

// Delete implements session.Store.
func (f *Failing) Delete(ctx context.Context, id string) error {
	if err := f.check(OpDelete); err != nil {
		return err
	}
	return f.store.Delete(ctx, id)
}

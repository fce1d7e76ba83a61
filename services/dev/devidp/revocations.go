package devidp

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// revokedFile is the name of the revocation list in the data directory.
const revokedFile = "revoked.json"

// revocations is the set of revoked token families (origin_jti values), each kept until the
// refresh token that started it would have expired anyway.
type revocations struct {
	mu    sync.Mutex
	path  string // empty: memory only
	until map[string]time.Time
}

func openRevocations(dir string) (*revocations, error) {
	r := &revocations{until: make(map[string]time.Time)}
	if dir == "" {
		return r, nil
	}
	r.path = filepath.Join(dir, revokedFile)
	data, err := os.ReadFile(r.path) //nolint:gosec // the operator chooses the data directory
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return r, nil
	case err != nil:
		return nil, fmt.Errorf("read revocations: %w", err)
	}
	if err := json.Unmarshal(data, &r.until); err != nil {
		return nil, fmt.Errorf("read %s: %w", r.path, err)
	}
	return r, nil
}

// revoke records that family is revoked until exp, and saves the list.
func (r *revocations) revoke(family string, exp, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for f, t := range r.until {
		if now.After(t) {
			delete(r.until, f)
		}
	}
	r.until[family] = exp.UTC()
	if r.path == "" {
		return nil
	}
	data, err := json.Marshal(r.until)
	if err != nil {
		return fmt.Errorf("encode revocations: %w", err)
	}
	return writeFileAtomic(r.path, data)
}

// revoked reports whether family has been revoked.
func (r *revocations) revoked(family string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.until[family]
	return ok
}

// Package keystoretest is the contract suite every apikey.Store passes.
package keystoretest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/apikey"
)

// Factory opens a new, empty store for one test; the suite closes it.
type Factory func(t *testing.T) apikey.Store

var t0 = time.Date(2026, 5, 14, 10, 0, 0, 0, time.UTC)

func key(owner, id string, created time.Time) apikey.Key {
	return apikey.Key{
		ID: id, Owner: owner, Name: "key " + id, Prefix: "portico_sk_" + id[:6],
		Hash: fmt.Sprintf("%064x", []byte(owner+"/"+id)), Created: created, Expires: created.Add(90 * 24 * time.Hour),
	}
}

// Run runs the contract suite against stores open makes.
func Run(t *testing.T, open Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, apikey.Store)
	}{
		{"CreateAndFind", testCreateAndFind},
		{"Duplicates", testDuplicates},
		{"ListNewestFirst", testList},
		{"Revoke", testRevoke},
		{"Touch", testTouch},
		{"Seen", testSeen},
		{"ConcurrentTouchAndRevoke", testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tt.fn(t, s)
		})
	}
}

func testCreateAndFind(t *testing.T, s apikey.Store) {
	k := key("alice", "aaaaaaaaaaaaaaa1", t0)
	k.Models = []string{"amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0"}
	if err := s.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	got, err := s.ByHash(t.Context(), k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(got, k) {
		t.Errorf("ByHash = %+v, want %+v", got, k)
	}
	if _, err := s.ByHash(t.Context(), fmt.Sprintf("%064x", []byte("nope"))); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("unknown hash: err = %v, want ErrNotFound", err)
	}
}

func testDuplicates(t *testing.T, s apikey.Store) {
	k := key("alice", "aaaaaaaaaaaaaaa1", t0)
	if err := s.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	sameHash := key("bob", "bbbbbbbbbbbbbbb1", t0)
	sameHash.Hash = k.Hash
	sameID := key("alice", "aaaaaaaaaaaaaaa1", t0)
	sameID.Hash = fmt.Sprintf("%064x", []byte("other"))
	for name, d := range map[string]apikey.Key{"same hash": sameHash, "same id": sameID} {
		if err := s.Create(t.Context(), d); !errors.Is(err, apikey.ErrExists) {
			t.Errorf("%s: err = %v, want ErrExists", name, err)
		}
	}
	if got, err := s.ByHash(t.Context(), k.Hash); err != nil || got.Owner != "alice" {
		t.Errorf("after duplicates: %+v, %v", got, err)
	}
}

func testList(t *testing.T, s apikey.Store) {
	for i, k := range []apikey.Key{
		key("alice", "aaaaaaaaaaaaaaa1", t0),
		key("bob", "bbbbbbbbbbbbbbb1", t0.Add(time.Minute)),
		key("alice", "aaaaaaaaaaaaaaa2", t0.Add(2*time.Minute)),
	} {
		if err := s.Create(t.Context(), k); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	ids := func(ks []apikey.Key) []string {
		var out []string
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}
	if got, err := s.List(t.Context(), "alice"); err != nil || !slices.Equal(ids(got), []string{"aaaaaaaaaaaaaaa2", "aaaaaaaaaaaaaaa1"}) {
		t.Errorf("alice's = %v, %v", ids(got), err)
	}
	if got, err := s.List(t.Context(), ""); err != nil || !slices.Equal(ids(got), []string{"aaaaaaaaaaaaaaa2", "bbbbbbbbbbbbbbb1", "aaaaaaaaaaaaaaa1"}) {
		t.Errorf("everyone's = %v, %v", ids(got), err)
	}
	if got, err := s.List(t.Context(), "carol"); err != nil || len(got) != 0 {
		t.Errorf("carol's = %v, %v", ids(got), err)
	}
}

func testRevoke(t *testing.T, s apikey.Store) {
	k := key("alice", "aaaaaaaaaaaaaaa1", t0)
	if err := s.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke(t.Context(), "bob", k.ID, "bob", t0); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("another owner's key: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Revoke(t.Context(), "alice", "ffffffffffffffff", "alice", t0); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("unknown id: err = %v, want ErrNotFound", err)
	}
	got, err := s.Revoke(t.Context(), "alice", k.ID, "dana", t0.Add(time.Hour))
	if err != nil || !got.Revoked.Equal(t0.Add(time.Hour)) || got.RevokedBy != "dana" {
		t.Fatalf("Revoke = %+v, %v", got, err)
	}
	again, err := s.Revoke(t.Context(), "alice", k.ID, "alice", t0.Add(2*time.Hour))
	if err != nil || !again.Revoked.Equal(t0.Add(time.Hour)) || again.RevokedBy != "dana" {
		t.Errorf("second Revoke = %+v, %v; the first stands", again, err)
	}
	if byHash, err := s.ByHash(t.Context(), k.Hash); err != nil || !byHash.Revoked.Equal(t0.Add(time.Hour)) {
		t.Errorf("ByHash after revoke = %+v, %v", byHash, err)
	}
}

func testTouch(t *testing.T, s apikey.Store) {
	k := key("alice", "aaaaaaaaaaaaaaa1", t0)
	if err := s.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{t0.Add(time.Hour), t0.Add(time.Minute)} {
		if err := s.Touch(t.Context(), "alice", k.ID, at); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.ByHash(t.Context(), k.Hash); err != nil || !got.LastUsed.Equal(t0.Add(time.Hour)) {
		t.Errorf("LastUsed = %v, %v; want the later time", got.LastUsed, err)
	}
	if err := s.Touch(t.Context(), "bob", k.ID, t0); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("touch another owner's key: %v", err)
	}
}

func testSeen(t *testing.T, s apikey.Store) {
	if _, err := s.Seen(t.Context(), "alice"); !errors.Is(err, apikey.ErrNotFound) {
		t.Errorf("never seen: err = %v", err)
	}
	want := apikey.Seen{Owner: "alice", Subject: "sub-a", Email: "a@example.com", DisplayName: "Alice", Department: "R&D",
		Groups: []string{"Administrators", "MLUsers"}, At: t0.Add(time.Hour)}
	if err := s.PutSeen(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	older := want
	older.At, older.Groups = t0, []string{"Old"}
	if err := s.PutSeen(t.Context(), older); err != nil {
		t.Fatal(err)
	}
	got, err := s.Seen(t.Context(), "alice")
	if err != nil || !seenEqual(got, want) {
		t.Errorf("Seen = %+v, %v; want %+v (an older sighting never wins)", got, err, want)
	}
	newer := want
	newer.At, newer.Groups = t0.Add(2*time.Hour), nil
	if err := s.PutSeen(t.Context(), newer); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Seen(t.Context(), "alice"); err != nil || !seenEqual(got, newer) {
		t.Errorf("Seen = %+v, %v; want %+v", got, err, newer)
	}
}

func testConcurrent(t *testing.T, s apikey.Store) {
	k := key("alice", "aaaaaaaaaaaaaaa1", t0)
	if err := s.Create(t.Context(), k); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if err := s.Touch(t.Context(), "alice", k.ID, t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Go(func() {
		if _, err := s.Revoke(t.Context(), "alice", k.ID, "alice", t0.Add(time.Hour)); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	got, err := s.ByHash(t.Context(), k.Hash)
	if err != nil || got.Revoked.IsZero() || !got.LastUsed.Equal(t0.Add(7*time.Minute)) {
		t.Errorf("after concurrent writes: %+v, %v", got, err)
	}
}

func equal(a, b apikey.Key) bool {
	return a.ID == b.ID && a.Owner == b.Owner && a.Name == b.Name && a.Prefix == b.Prefix && a.Hash == b.Hash &&
		slices.Equal(a.Models, b.Models) && a.Created.Equal(b.Created) && a.Expires.Equal(b.Expires) &&
		a.LastUsed.Equal(b.LastUsed) && a.Revoked.Equal(b.Revoked) && a.RevokedBy == b.RevokedBy
}

func seenEqual(a, b apikey.Seen) bool {
	return a.Owner == b.Owner && a.Subject == b.Subject && a.Email == b.Email && a.DisplayName == b.DisplayName &&
		a.Department == b.Department && slices.Equal(a.Groups, b.Groups) && a.At.Equal(b.At)
}

package session

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// tamper returns a request carrying r's cookies with one character of the first chunk's
// sealed text changed.
func tamper(r *http.Request) *http.Request {
	out := httptest.NewRequest(http.MethodGet, "/", nil)
	for i, c := range r.Cookies() {
		v := c.Value
		if i == 0 {
			j := len(v) / 2
			repl := byte('A')
			if v[j] == 'A' {
				repl = 'B'
			}
			v = v[:j] + string(repl) + v[j+1:]
		}
		out.AddCookie(&http.Cookie{Name: c.Name, Value: v})
	}
	return out
}

// TestOpenedCache checks that keeping opened cookie sessions changes no answer of Load:
// each case loads a genuine cookie first (so it is cached), then does what it names.
func TestOpenedCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, m *Manager, clk *clock, r *http.Request)
	}{
		{"a second load is the same session", func(t *testing.T, m *Manager, _ *clock, r *http.Request) {
			got, err := m.Load(r)
			if err != nil || got.User.Username != "alice" || len(got.AccessToken) != 2000 {
				t.Fatalf("second load: %+v, %v", got, err)
			}
		}},
		{"changing a loaded session changes no later load", func(t *testing.T, m *Manager, _ *clock, r *http.Request) {
			first, err := m.Load(r)
			if err != nil {
				t.Fatal(err)
			}
			want := first.AccessToken
			first.AccessToken = "changed"
			first.User.Groups[0] = "Administrators"
			got, err := m.Load(r)
			if err != nil || got.AccessToken != want || got.User.Groups[0] != "MLUsers" {
				t.Fatalf("load after a change: %+v, %v", got, err)
			}
		}},
		{"a tampered copy of a cached cookie is refused", func(t *testing.T, m *Manager, _ *clock, r *http.Request) {
			if _, err := m.Load(tamper(r)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("tampered cookie: %v, want ErrInvalid", err)
			}
		}},
		{"a cached session still goes idle", func(t *testing.T, m *Manager, clk *clock, r *http.Request) {
			clk.advance(time.Hour + time.Second)
			if _, err := m.Load(r); !errors.Is(err, ErrExpired) {
				t.Fatalf("idle session: %v, want ErrExpired", err)
			}
		}},
		{"a cached session still expires", func(t *testing.T, m *Manager, clk *clock, r *http.Request) {
			clk.advance(31 * time.Minute) // past the absolute end (30 min), within the idle timeout
			if _, err := m.Load(r); !errors.Is(err, ErrExpired) {
				t.Fatalf("expired session: %v, want ErrExpired", err)
			}
		}},
		{"logout forgets the cached session", func(t *testing.T, m *Manager, _ *clock, r *http.Request) {
			if err := m.Clear(httptest.NewRecorder(), r); err != nil {
				t.Fatal(err)
			}
			if n := len(m.opened.m); n != 0 {
				t.Fatalf("%d sessions kept after logout, want 0", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			m := NewManager(newJar(t), Options{Now: clk.now, IdleTimeout: time.Hour})
			s := newSession(clk.now())
			s.Expires = clk.now().Add(30 * time.Minute)
			r, _ := roundTrip(t, m, s)
			if _, err := m.Load(r); err != nil {
				t.Fatal(err)
			}
			if n := len(m.opened.m); n != 1 {
				t.Fatalf("%d sessions kept after a load, want 1", n)
			}
			tt.run(t, m, clk, r)
		})
	}
}

// TestOpenedCacheBounds checks the cache's size bound and that server-side sessions are
// never kept (a session deleted from the store ends at once).
func TestOpenedCacheBounds(t *testing.T) {
	t.Parallel()
	t.Run("bounded", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		m := NewManager(newJar(t), Options{Now: clk.now, OpenedCacheSize: 2})
		for range 5 {
			r, _ := roundTrip(t, m, newSession(clk.now()))
			if _, err := m.Load(r); err != nil {
				t.Fatal(err)
			}
			if n := len(m.opened.m); n > 2 {
				t.Fatalf("%d sessions kept, bound 2", n)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		m := NewManager(newJar(t), Options{Now: clk.now, OpenedCacheSize: -1})
		r, _ := roundTrip(t, m, newSession(clk.now()))
		if _, err := m.Load(r); err != nil {
			t.Fatal(err)
		}
		if n := len(m.opened.m); n != 0 {
			t.Fatalf("%d sessions kept with the cache off", n)
		}
	})
	t.Run("store sessions are read every time", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		store := NewMemoryStore(clk.now)
		m := NewManager(newJar(t), Options{Now: clk.now, Store: store})
		r, _ := roundTrip(t, m, newSession(clk.now()))
		s, err := m.Load(r)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(m.opened.m); n != 0 {
			t.Fatalf("%d store sessions kept, want 0", n)
		}
		if err := store.Delete(t.Context(), s.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Load(r); !errors.Is(err, ErrInvalid) {
			t.Fatalf("load after the store deleted the session: %v, want ErrInvalid", err)
		}
	})
}

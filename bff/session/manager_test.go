package session

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff/cookie"
)

type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *clock) advance(d time.Duration) { c.t.Add(int64(d)) }
func newClock() *clock {
	c := &clock{}
	c.t.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func newJar(t *testing.T) *cookie.Jar {
	t.Helper()
	codec, err := cookie.NewCodec(cookie.Key{ID: "k1", Secret: bytes.Repeat([]byte{7}, cookie.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	return &cookie.Jar{Codec: codec, Name: "__Host-portico-session", SameSite: http.SameSiteStrictMode}
}

func newSession(now time.Time) *Session {
	return &Session{
		ID:           NewID(),
		User:         User{Subject: "s-1", Username: "alice", Groups: []string{"MLUsers"}},
		AccessToken:  testToken(2000),
		AccessExpiry: now.Add(time.Hour),
		RefreshToken: testToken(2500),
		Created:      now,
		Expires:      now.Add(24 * time.Hour),
	}
}

// testToken returns n random base64url characters: as incompressible as a token's
// signature or an encrypted refresh token.
func testToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// roundTrip saves s and returns a request that carries the cookies the response set.
func roundTrip(t *testing.T, m *Manager, s *Session) (*http.Request, []*http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := m.Save(rec, httptest.NewRequest(http.MethodGet, "/", nil), s); err != nil {
		t.Fatal(err)
	}
	cookies := (&http.Response{Header: rec.Header()}).Cookies()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		if c.MaxAge > 0 {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return r, cookies
}

func TestManagerModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"cookie", "store"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			var store *MemoryStore
			opts := Options{Now: clk.now, IdleTimeout: time.Hour}
			if mode == "store" {
				store = NewMemoryStore(clk.now)
				opts.Store = store
			}
			m := NewManager(newJar(t), opts)
			s := newSession(clk.now())
			r, cookies := roundTrip(t, m, s)
			wantCookies := 2 // 4.5 KB of tokens need two chunks, compressed too
			if mode == "store" {
				wantCookies = 1
			}
			if len(cookies) != wantCookies {
				t.Fatalf("Save set %d cookies, want %d", len(cookies), wantCookies)
			}
			got, err := m.Load(r)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != s.ID || got.AccessToken != s.AccessToken || got.RefreshToken != s.RefreshToken || got.User.Username != "alice" {
				t.Fatalf("Load = %+v", got)
			}
			if !got.LastSeen.Equal(clk.now()) {
				t.Fatalf("LastSeen = %v, want %v", got.LastSeen, clk.now())
			}

			clk.advance(59 * time.Minute)
			if _, err := m.Load(r); err != nil {
				t.Fatalf("Load within the idle timeout: %v", err)
			}
			clk.advance(2 * time.Minute)
			if _, err := m.Load(r); !errors.Is(err, ErrExpired) {
				t.Fatalf("Load after the idle timeout: %v, want ErrExpired", err)
			}

			s2 := newSession(clk.now())
			r2, _ := roundTrip(t, m, s2)
			rec := httptest.NewRecorder()
			if err := m.Clear(rec, r2); err != nil {
				t.Fatal(err)
			}
			if mode == "store" {
				// Revocation: the ticket no longer names a session, even if the browser kept it.
				if _, err := m.Load(r2); !errors.Is(err, ErrInvalid) {
					t.Fatalf("Load after Clear: %v, want ErrInvalid", err)
				}
			}
		})
	}
}

func TestManagerRefuses(t *testing.T) {
	t.Parallel()
	clk := newClock()
	m := NewManager(newJar(t), Options{Now: clk.now})
	s := newSession(clk.now())
	s.Expires = clk.now().Add(time.Minute)
	good, _ := roundTrip(t, m, s)
	otherJar := newJar(t)
	otherJar.Name = "__Host-other"
	other := NewManager(otherJar, Options{Now: clk.now})
	_, foreign := roundTrip(t, other, newSession(clk.now()))

	tests := []struct {
		name    string
		req     func() *http.Request
		wantErr error
	}{
		{"no cookie", func() *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) }, ErrNoSession},
		{"garbage", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(&http.Cookie{Name: "__Host-portico-session", Value: "1.k1.AAAA"})
			return r
		}, ErrInvalid},
		{"value of another cookie", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, c := range foreign {
				r.AddCookie(&http.Cookie{Name: strings.Replace(c.Name, "__Host-other", "__Host-portico-session", 1), Value: c.Value})
			}
			return r
		}, ErrInvalid},
		{"valid", func() *http.Request { return good }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := m.Load(tt.req())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Load error = %v, want %v", err, tt.wantErr)
			}
		})
	}
	clk.advance(time.Minute)
	if _, err := m.Load(good); !errors.Is(err, ErrExpired) {
		t.Fatalf("Load past the absolute end: %v, want ErrExpired", err)
	}
}

func TestMemoryStoreSweeps(t *testing.T) {
	t.Parallel()
	clk := newClock()
	st := NewMemoryStore(clk.now)
	for range 100 {
		s := newSession(clk.now())
		s.Expires = clk.now().Add(time.Minute)
		if err := st.Create(t.Context(), s); err != nil {
			t.Fatal(err)
		}
	}
	clk.advance(2 * time.Minute)
	if err := st.Create(t.Context(), newSession(clk.now())); err != nil {
		t.Fatal(err)
	}
	if n := st.Len(); n != 1 {
		t.Fatalf("store holds %d sessions after expiry, want 1", n)
	}
}

func TestManagerSaveAfterRevocation(t *testing.T) {
	t.Parallel()
	clk := newClock()
	m := NewManager(newJar(t), Options{Now: clk.now, Store: NewMemoryStore(clk.now)})
	r, _ := roundTrip(t, m, newSession(clk.now()))
	loaded, err := m.Load(r)
	if err != nil {
		t.Fatal(err)
	}
	// Logout (say, in another tab) while this request refreshes the session.
	if err := m.Clear(httptest.NewRecorder(), r); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Minute)
	rec := httptest.NewRecorder()
	if err := m.Save(rec, r, loaded); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Save of a revoked session = %v, want ErrInvalid", err)
	}
	if _, err := m.Load(r); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Load after the late Save = %v, want ErrInvalid", err)
	}
	for _, c := range (&http.Response{Header: rec.Header()}).Cookies() {
		if c.MaxAge > 0 {
			t.Fatalf("the late Save set cookie %s", c.Name)
		}
	}
}

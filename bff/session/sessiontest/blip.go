package sessiontest

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff/cookie"
	"github.com/portico-dev/portico/bff/session"
)

// cookieName is the session cookie of the Manager the blip test drives.
const cookieName = "__Host-portico-session"

// testBlip drives a session.Manager over st wrapped in Failing: while the store fails, the
// manager reports session.ErrUnavailable (never ErrInvalid) from Load, Save and Clear and
// neither clears nor rewrites the cookie; once the store is back the session is intact; only
// the store's definitive answer (a deleted session) ends it.
func testBlip(t *testing.T, st session.Store, clk *Clock) {
	codec, err := cookie.NewCodec(cookie.Key{ID: "k1", Secret: bytes.Repeat([]byte{9}, cookie.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFailing(st)
	m := session.NewManager(&cookie.Jar{Codec: codec, Name: cookieName, SameSite: http.SameSiteStrictMode},
		session.Options{Store: f, Now: clk.Now})

	s := NewSession(clk.Now())
	s.LastSeen = time.Time{} // never saved: Save creates it
	rec := httptest.NewRecorder()
	if err := m.Save(rec, httptest.NewRequest(http.MethodGet, "/", nil), s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range (&http.Response{Header: rec.Header()}).Cookies() {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}

	steps := []struct {
		op  Op
		run func(w http.ResponseWriter) error
	}{
		{OpLoad, func(http.ResponseWriter) error { _, err := m.Load(r); return err }},
		{OpUpdate, func(w http.ResponseWriter) error { u := *s; return m.Save(w, r, &u) }},
		{OpDelete, func(w http.ResponseWriter) error { return m.Clear(w, r) }},
		{OpCreate, func(w http.ResponseWriter) error {
			fresh := NewSession(clk.Now())
			fresh.LastSeen = time.Time{}
			return m.Save(w, r, fresh)
		}},
	}
	for _, step := range steps {
		f.Fail(step.op)
		w := httptest.NewRecorder()
		err := step.run(w)
		f.Heal()
		if !errors.Is(err, session.ErrUnavailable) || !errors.Is(err, ErrInjected) ||
			errors.Is(err, session.ErrInvalid) || errors.Is(err, session.ErrExpired) {
			t.Fatalf("%s failing: error %v, want session.ErrUnavailable wrapping the store's error", step.op, err)
		}
		if f.Failed(step.op) != 1 {
			t.Fatalf("%s failing: the operation was called %d times, want 1", step.op, f.Failed(step.op))
		}
		if got := w.Header().Values("Set-Cookie"); len(got) != 0 {
			t.Fatalf("%s failing: the response sets cookies %q; the browser's cookie must stay as it was", step.op, got)
		}
		// The blip is over: the session is still there, unchanged.
		got, err := m.Load(r)
		if err != nil {
			t.Fatalf("Load after the %s blip: %v", step.op, err)
		}
		if err := equal(got, s); err != nil {
			t.Fatalf("the session changed over the %s blip: %v", step.op, err)
		}
	}

	// A definitive answer ends it: deleted on the server, the ticket is invalid.
	if err := st.Delete(t.Context(), s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Load(r); !errors.Is(err, session.ErrInvalid) || errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Load of a deleted session = %v, want ErrInvalid", err)
	}
}

package session

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// deflated returns formatDeflate and the DEFLATE of plain, then extra.
func deflated(t *testing.T, plain string, extra ...byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteByte(formatDeflate)
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(plain)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return append(buf.Bytes(), extra...)
}

// sealedRequest returns a request carrying plaintext sealed by m's jar, as only a holder of
// the cookie keys could make it.
func sealedRequest(t *testing.T, m *Manager, plaintext []byte) *http.Request {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := m.jar.Write(rec, nil, plaintext, time.Hour); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range (&http.Response{Header: rec.Header()}).Cookies() {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// TestCookieFormatRefuses checks that a cookie plaintext that is not a session, compressed
// or not, ends the session however it was sealed: each one opens (it was sealed with the
// BFF's key), so only the decoding refuses it.
func TestCookieFormatRefuses(t *testing.T) {
	t.Parallel()
	clk := newClock()
	m := NewManager(newJar(t), Options{Now: clk.now, OpenedCacheSize: -1})
	good, err := json.Marshal(newSession(clk.now()))
	if err != nil {
		t.Fatal(err)
	}
	good = bytes.Replace(good, []byte(`"seen":"0001-01-01T00:00:00Z"`), []byte(`"seen":"`+clk.now().Format(time.RFC3339)+`"`), 1)
	stream := deflated(t, string(good))
	bomb := `{"id":"x","exp":"2100-01-01T00:00:00Z","seen":"` + clk.now().Format(time.RFC3339) + `"` + strings.Repeat(" ", maxSessionJSON) + "}"
	tests := []struct {
		name  string
		plain []byte
	}{
		{"empty", nil},
		{"unknown format byte", append([]byte{0x02}, stream[1:]...)},
		{"format byte before uncompressed JSON", append([]byte{formatDeflate}, good...)},
		{"truncated stream", stream[:len(stream)-3]},
		{"bytes after the stream", append(append([]byte(nil), stream...), 'x')},
		{"inflates past the limit", deflated(t, bomb)},
		{"compressed non-JSON", deflated(t, "not json")},
		{"compressed JSON without an id", deflated(t, `{"user":{"username":"dana"}}`)},
		{"uncompressed JSON without an id", []byte(`{"user":{"username":"dana"}}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := m.Load(sealedRequest(t, m, tt.plain)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Load = %v, want ErrInvalid", err)
			}
		})
	}
	// The same stream, whole, opens: the cases above fail for what they change.
	if _, err := m.Load(sealedRequest(t, m, stream)); err != nil {
		t.Fatalf("the untouched compressed session: %v", err)
	}
	// So does a bomb's shape under the limit.
	small := strings.Replace(bomb, strings.Repeat(" ", maxSessionJSON), strings.Repeat(" ", maxSessionJSON-len(bomb)+maxSessionJSON), 1)
	if _, err := m.Load(sealedRequest(t, m, deflated(t, small))); err != nil {
		t.Fatalf("a session of exactly the limit: %v", err)
	}
}

// TestCookieFormatCompat checks that a session sealed as plain JSON (by a BFF before
// compression) still opens, and that Save writes the compressed format, smaller than the
// JSON for tokens as incompressible as real ones.
func TestCookieFormatCompat(t *testing.T) {
	t.Parallel()
	clk := newClock()
	m := NewManager(newJar(t), Options{Now: clk.now})
	s := newSession(clk.now())
	s.LastSeen = clk.now()
	plain, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Load(sealedRequest(t, m, plain))
	if err != nil || got.ID != s.ID || got.RefreshToken != s.RefreshToken {
		t.Fatalf("plain JSON session: %+v, %v", got, err)
	}

	r, _ := roundTrip(t, m, s)
	saved, err := m.jar.Read(r)
	if err != nil {
		t.Fatal(err)
	}
	if saved[0] != formatDeflate || len(saved) > len(plain)*85/100 {
		t.Fatalf("Save wrote %d bytes starting %#x; the JSON is %d bytes", len(saved), saved[0], len(plain))
	}
}

// TestCookieFormatConcurrentSaves checks that saves at the same time (one with the kept
// compressor, the others with their own) each write their own session.
func TestCookieFormatConcurrentSaves(t *testing.T) {
	t.Parallel()
	clk := newClock()
	m := NewManager(newJar(t), Options{Now: clk.now, OpenedCacheSize: -1})
	sessions := make([]*Session, 8)
	requests := make([]*http.Request, len(sessions))
	var wg sync.WaitGroup
	for i := range sessions {
		sessions[i] = newSession(clk.now())
		wg.Go(func() {
			rec := httptest.NewRecorder()
			if err := m.Save(rec, nil, sessions[i]); err != nil {
				t.Error(err)
				return
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for _, c := range (&http.Response{Header: rec.Header()}).Cookies() {
				r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			}
			requests[i] = r
		})
	}
	wg.Wait()
	for i, r := range requests {
		if r == nil {
			continue
		}
		got, err := m.Load(r)
		if err != nil || got.ID != sessions[i].ID || got.RefreshToken != sessions[i].RefreshToken {
			t.Fatalf("session %d: %v", i, err)
		}
	}
}

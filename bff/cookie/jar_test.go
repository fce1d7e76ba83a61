package cookie

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// written returns the cookies a response set, by name, in order of appearance.
func written(rec *httptest.ResponseRecorder) []*http.Cookie {
	return (&http.Response{Header: rec.Header()}).Cookies()
}

// requestWith returns a request carrying cookies.
func requestWith(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func writeRun(t *testing.T, jar *Jar, plaintext []byte) []*http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := jar.Write(rec, requestWith(), plaintext, time.Hour); err != nil {
		t.Fatal(err)
	}
	return written(rec)
}

func TestJarChunks(t *testing.T) {
	t.Parallel()
	key1, key2 := testKey(t, "k1", 1), testKey(t, "k2", 2)
	jar := &Jar{Codec: testCodec(t, key1), Name: "__Host-s", SameSite: http.SameSiteStrictMode}
	otherKeyJar := &Jar{Codec: testCodec(t, key2), Name: "__Host-s"}
	big := bytes.Repeat([]byte("abcdefghij"), 600) // 6,000 bytes: three chunks sealed
	run := writeRun(t, jar, big)
	if len(run) != 3 {
		t.Fatalf("wrote %d cookies, want 3", len(run))
	}
	for _, c := range run {
		if !c.Secure || !c.HttpOnly || c.Path != "/" || c.Domain != "" || c.SameSite != http.SameSiteStrictMode || c.MaxAge != 3600 {
			t.Fatalf("cookie %s has attributes %+v", c.Name, c)
		}
		if len(c.Name)+len(c.Value) > 4000 {
			t.Fatalf("cookie %s is %d bytes", c.Name, len(c.Name)+len(c.Value))
		}
	}
	other := writeRun(t, jar, bytes.Repeat([]byte("0123456789"), 600))
	foreign := writeRun(t, otherKeyJar, big)

	tests := []struct {
		name    string
		cookies []*http.Cookie
		wantErr error
	}{
		{"exact", run, nil},
		{"any order of cookies in the header", []*http.Cookie{run[2], run[0], run[1]}, nil},
		{"absent", nil, ErrNoCookie},
		{"missing middle chunk", []*http.Cookie{run[0], run[2]}, ErrInvalid},
		{"missing last chunk", []*http.Cookie{run[0], run[1]}, ErrInvalid},
		{"chunks swapped", []*http.Cookie{run[0], renamed(run[2], run[1].Name), renamed(run[1], run[2].Name)}, ErrInvalid},
		{"chunk from another session", []*http.Cookie{run[0], other[1], run[2]}, ErrInvalid},
		{"chunk from another key", []*http.Cookie{run[0], foreign[1], run[2]}, ErrInvalid},
		{"first chunk from another key", []*http.Cookie{foreign[0], run[1], run[2]}, ErrUnknownKey},
		{"count lowered", []*http.Cookie{withValue(run[0], "2"+run[0].Value[1:]), run[1], run[2]}, ErrInvalid},
		{"count zero", []*http.Cookie{withValue(run[0], "0"+run[0].Value[1:])}, ErrInvalid},
		{"count too large", []*http.Cookie{withValue(run[0], "9"+run[0].Value[1:])}, ErrInvalid},
		{"no count", []*http.Cookie{withValue(run[0], run[0].Value[2:])}, ErrInvalid},
		{"forged chunk", []*http.Cookie{run[0], withValue(run[1], flip(run[1].Value, 10)), run[2]}, ErrInvalid},
		{"truncated chunk", []*http.Cookie{run[0], run[1], withValue(run[2], run[2].Value[:len(run[2].Value)-1])}, ErrInvalid},
		{"extra bytes appended", []*http.Cookie{run[0], run[1], withValue(run[2], run[2].Value+"A")}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := jar.Read(requestWith(tt.cookies...))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Read error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !bytes.Equal(got, big) {
				t.Fatal("Read did not reassemble the value exactly")
			}
		})
	}
}

func TestJarClearsStaleChunks(t *testing.T) {
	t.Parallel()
	jar := &Jar{Codec: testCodec(t, testKey(t, "k1", 1)), Name: "__Host-s"}
	long := writeRun(t, jar, bytes.Repeat([]byte("x"), 6000))
	rec := httptest.NewRecorder()
	if err := jar.Write(rec, requestWith(long...), []byte("short"), time.Hour); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range written(rec) {
		got[c.Name] = c.MaxAge
	}
	want := map[string]int{"__Host-s": 3600, "__Host-s-1": -1, "__Host-s-2": -1}
	if len(got) != len(want) {
		t.Fatalf("Set-Cookie = %v, want %v", got, want)
	}
	for name, age := range want {
		if got[name] != age {
			t.Fatalf("Set-Cookie = %v, want %v", got, want)
		}
	}

	rec = httptest.NewRecorder()
	jar.Clear(rec, requestWith(long...))
	for _, c := range written(rec) {
		if c.MaxAge != -1 || c.Value != "" {
			t.Fatalf("Clear left %s=%q max-age %d", c.Name, c.Value, c.MaxAge)
		}
	}
	if n := len(written(rec)); n != 3 {
		t.Fatalf("Clear expired %d cookies, want 3", n)
	}
}

func TestJarRefusesHugeValues(t *testing.T) {
	t.Parallel()
	jar := &Jar{Codec: testCodec(t, testKey(t, "k1", 1)), Name: "__Host-s"}
	err := jar.Write(httptest.NewRecorder(), requestWith(), bytes.Repeat([]byte("x"), MaxChunks*DefaultChunkSize), time.Hour)
	if err == nil || !strings.Contains(err.Error(), "chunks") {
		t.Fatalf("Write error = %v, want a chunk-count error", err)
	}
}

func renamed(c *http.Cookie, name string) *http.Cookie {
	return &http.Cookie{Name: name, Value: c.Value}
}

func withValue(c *http.Cookie, value string) *http.Cookie {
	return &http.Cookie{Name: c.Name, Value: value}
}

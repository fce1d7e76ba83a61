package cookie

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// referenceLookup is what lookup replaced: the jar's chunks among r.Cookies(), the first
// of each name.
func referenceLookup(j *Jar, r *http.Request) (parts [MaxChunks]string, seen [MaxChunks]bool) {
	for _, c := range r.Cookies() {
		if i, ok := j.chunkIndex(c.Name); ok && !seen[i] {
			parts[i], seen[i] = c.Value, true
		}
	}
	return parts, seen
}

func cookieRequest(lines ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header["Cookie"] = lines
	return r
}

// lookupCases are Cookie headers net/http parses in unusual ways, each with the value
// lookup must find for the jar's first cookie ("" and absent when it finds none).
var lookupCases = []struct {
	name  string
	lines []string
	want  string
	found bool
}{
	{"plain", []string{"__Host-s=1.abc"}, "1.abc", true},
	{"among others", []string{"a=b; __Host-s=1.abc; c=d"}, "1.abc", true},
	{"second header line", []string{"a=b", "__Host-s=1.abc"}, "1.abc", true},
	{"spaces around the name and the pair", []string{"  a=b ;  __Host-s =1.abc  ; c=d"}, "1.abc", true},
	{"a space after '=' is kept", []string{"__Host-s= 1.abc"}, " 1.abc", true},
	{"quoted", []string{`__Host-s="1.abc"`}, "1.abc", true},
	{"one quote is refused", []string{`__Host-s="1.abc`}, "", false},
	{"a quote inside is refused", []string{`__Host-s=1.a"bc`}, "", false},
	{"a backslash is refused", []string{`__Host-s=1.abcdefgh\ijk`}, "", false},
	{"a control byte is refused", []string{"__Host-s=1.abcdefghij\x01k"}, "", false},
	{"DEL is refused", []string{"__Host-s=1.abcdefghij\x7fk"}, "", false},
	{"a byte above 0x7f is refused", []string{"__Host-s=1.abcdefghij\xc3\xa9k"}, "", false},
	{"a tab is refused", []string{"__Host-s=1.abcdefghijklmn\top"}, "", false},
	{"a refused first copy yields to a valid second", []string{"__Host-s=1.ab\x01; __Host-s=1.good"}, "1.good", true},
	{"the first valid copy wins", []string{"__Host-s=1.first; __Host-s=1.second"}, "1.first", true},
	{"no '='", []string{"__Host-s"}, "", true},
	{"empty value", []string{"__Host-s="}, "", true},
	{"a longer name is another cookie", []string{"__Host-sx=1.abc"}, "", false},
	{"a prefix of the name is another cookie", []string{"__Host-=1.abc"}, "", false},
	{"case matters", []string{"__host-s=1.abc"}, "", false},
	{"too many cookies: none at all", []string{strings.Repeat("a=b; ", maxCookies) + "__Host-s=1.abc"}, "", false},
	{"as many cookies as allowed", []string{strings.Repeat("a=b; ", maxCookies-1) + "__Host-s=1.abc"}, "1.abc", true},
}

func TestLookup(t *testing.T) {
	t.Parallel()
	jar := &Jar{Name: "__Host-s"}
	for _, tt := range lookupCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := cookieRequest(tt.lines...)
			parts, seen := jar.lookup(r)
			if parts[0] != tt.want || seen[0] != tt.found {
				t.Errorf("lookup = %q, %v; want %q, %v", parts[0], seen[0], tt.want, tt.found)
			}
			if rp, rs := referenceLookup(jar, r); rp != parts || rs != seen {
				t.Errorf("lookup = %q %v, r.Cookies() gives %q %v", parts, seen, rp, rs)
			}
		})
	}
}

func TestValidCookieValue(t *testing.T) {
	t.Parallel()
	// Every byte at every position of a 17-byte value (two words and a tail).
	for pos := range 17 {
		for b := range 256 {
			v := []byte(strings.Repeat("a", 17))
			v[pos] = byte(b)
			if got, want := validCookieValue(string(v)), validCookieValueByte(byte(b)); got != want {
				t.Fatalf("byte %#x at %d: valid = %v, want %v", b, pos, got, want)
			}
		}
	}
}

// FuzzLookup checks that lookup finds exactly what r.Cookies() finds, for any headers.
func FuzzLookup(f *testing.F) {
	for _, tt := range lookupCases {
		if len(tt.lines) == 1 && len(tt.lines[0]) < 200 {
			f.Add(tt.lines[0], "")
		}
	}
	f.Add("__Host-s=2.abc; __Host-s-1=def", "__Host-s-2=x")
	f.Add("__Host-s-1=\"q\"; __Host-s-7=z;__Host-s-8=y", "__Host-s=3.\x80")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		jar := &Jar{Name: "__Host-s"}
		r := cookieRequest(line1, line2)
		parts, seen := jar.lookup(r)
		if rp, rs := referenceLookup(jar, r); rp != parts || rs != seen {
			t.Errorf("lookup = %q %v, r.Cookies() gives %q %v", parts, seen, rp, rs)
		}
	})
}

// BenchmarkLookup compares lookup with r.Cookies() on one session cookie of 3,100 bytes.
func BenchmarkLookup(b *testing.B) {
	jar := &Jar{Name: "__Host-s"}
	r := cookieRequest("__Host-s=1.k1." + strings.Repeat("AbCd-_09", 3100/8))
	b.Run("lookup", func(b *testing.B) {
		for b.Loop() {
			if _, seen := jar.lookup(r); !seen[0] {
				b.Fatal("not found")
			}
		}
	})
	b.Run("r.Cookies", func(b *testing.B) {
		for b.Loop() {
			if _, seen := referenceLookup(jar, r); !seen[0] {
				b.Fatal("not found")
			}
		}
	})
}

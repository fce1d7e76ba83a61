package cookie

import (
	"net/http"
	"net/textproto"
	"os"
	"strings"
)

// maxCookies is net/http's limit on the cookies of one request (the default of GODEBUG
// httpcookiemaxnum): a request carrying more has, to r.Cookies(), none at all.
const maxCookies = 3000

// customCookieLimit reports that the process changes net/http's cookie limit, whose value
// the package cannot read: lookup then leaves the parsing to r.Cookies().
var customCookieLimit = strings.Contains(os.Getenv("GODEBUG"), "httpcookiemaxnum")

// lookup returns the values of the jar's chunks in r's Cookie headers: for each chunk
// index, the first value r.Cookies() would give a cookie of that name. It parses exactly as
// r.Cookies() does (the same trimming, the same refusal of a request with too many cookies
// and of a value with a byte outside RFC 6265's cookie-octets, the same unquoting), but it
// examines the values of the jar's own cookies only and allocates nothing: r.Cookies()
// checks every byte of every cookie one by one and allocates a Cookie for each, which was a
// tenth of the BFF's instructions per call (callgrind). FuzzLookup checks the two agree.
func (j *Jar) lookup(r *http.Request) (parts [MaxChunks]string, seen [MaxChunks]bool) {
	if customCookieLimit {
		for _, c := range r.Cookies() {
			if i, ok := j.chunkIndex(c.Name); ok && !seen[i] {
				parts[i], seen[i] = c.Value, true
			}
		}
		return parts, seen
	}
	lines := r.Header["Cookie"]
	n := 0
	for _, line := range lines {
		n += strings.Count(line, ";") + 1
	}
	if n > maxCookies {
		return parts, seen
	}
	for _, line := range lines {
		line = textproto.TrimString(line)
		var part string
		for len(line) > 0 {
			part, line, _ = strings.Cut(line, ";")
			name, value, _ := strings.Cut(textproto.TrimString(part), "=")
			i, ok := j.chunkIndex(textproto.TrimString(name))
			if !ok || seen[i] {
				continue
			}
			if value, ok = cookieValue(value); ok {
				parts[i], seen[i] = value, true
			}
		}
	}
	return parts, seen
}

// cookieValue unquotes raw and reports whether it is a valid cookie value, as net/http's
// parseCookieValue does for a request's cookies.
func cookieValue(raw string) (string, bool) {
	if len(raw) > 1 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	return raw, validCookieValue(raw)
}

// Constants of validCookieValue's word-at-a-time test.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// validCookieValue reports whether every byte of v is one net/http accepts in a cookie
// value: 0x20 to 0x7e except '"', ';' and '\\'. It tests eight bytes at a time: a word has
// a byte below 0x20 when (x - 0x20…) & ^x & 0x80… is not zero, and a byte equal to c when
// x ^ c… has a zero byte, each test exact about whether any byte qualifies.
func validCookieValue(v string) bool {
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := v[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56 // one load
		bad := x & highs // 0x80 and above
		bad |= (x - 0x20*ones) & ^x & highs
		bad |= hasZeroByte(x ^ 0x7f*ones)
		bad |= hasZeroByte(x ^ '"'*ones)
		bad |= hasZeroByte(x ^ ';'*ones)
		bad |= hasZeroByte(x ^ '\\'*ones)
		if bad != 0 {
			return false
		}
	}
	for ; i < len(v); i++ {
		if !validCookieValueByte(v[i]) {
			return false
		}
	}
	return true
}

// hasZeroByte is not zero when a byte of x is zero.
func hasZeroByte(x uint64) uint64 { return (x - ones) & ^x & highs }

// validCookieValueByte is net/http's test of one byte of a cookie value.
func validCookieValueByte(b byte) bool {
	return 0x20 <= b && b < 0x7f && b != '"' && b != ';' && b != '\\'
}

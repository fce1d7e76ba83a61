package cookie

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultChunkSize is the largest cookie value a Jar writes. Browsers keep at least 4,096
// bytes per cookie, name and attributes included.
const DefaultChunkSize = 3800

// MaxChunks is the most chunks a Jar writes or reads for one value.
const MaxChunks = 8

// ErrNoCookie reports that the request carries no cookie of the jar's name.
var ErrNoCookie = errors.New("cookie: not present")

// Jar reads and writes one sealed value as a run of cookies: Name holds "<n>.<first part>",
// and Name-1 … Name-(n-1) hold the rest. The sealed value is authenticated as a whole, so a
// missing, reordered, truncated or foreign chunk fails to open.
type Jar struct {
	// Codec seals and opens the value.
	Codec *Codec
	// Name is the cookie name, normally "__Host-" prefixed.
	Name string
	// SameSite is the SameSite attribute of every chunk.
	SameSite http.SameSite
	// ChunkSize is the largest value per cookie; zero means DefaultChunkSize.
	ChunkSize int
}

func (j *Jar) chunkName(i int) string {
	if i == 0 {
		return j.Name
	}
	return j.Name + "-" + strconv.Itoa(i)
}

// Read reassembles and opens the value. It returns ErrNoCookie when the first cookie is
// absent, and ErrInvalid or ErrUnknownKey when the run does not open.
func (j *Jar) Read(r *http.Request) ([]byte, error) {
	sealed, err := j.ReadSealed(r)
	if err != nil {
		return nil, err
	}
	return j.Open(sealed)
}

// ReadSealed reassembles the value without opening it: the sealed text that Open opens. It
// returns ErrNoCookie when the first cookie is absent and ErrInvalid when the run is
// malformed (a bad count, a missing chunk); a well-formed run may still not open.
func (j *Jar) ReadSealed(r *http.Request) (string, error) {
	// One pass over the Cookie header: r.Cookie would parse it again for every chunk.
	parts, seen := j.lookup(r)
	if !seen[0] {
		return "", ErrNoCookie
	}
	countText, first, ok := strings.Cut(parts[0], ".")
	if !ok || len(countText) != 1 {
		return "", ErrInvalid
	}
	n := int(countText[0] - '0')
	if n < 1 || n > MaxChunks {
		return "", ErrInvalid
	}
	if n == 1 {
		return first, nil
	}
	size := len(first)
	for i := 1; i < n; i++ {
		if !seen[i] {
			return "", ErrInvalid
		}
		size += len(parts[i])
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(first)
	for i := 1; i < n; i++ {
		b.WriteString(parts[i])
	}
	return b.String(), nil
}

// Open opens a sealed value ReadSealed returned.
func (j *Jar) Open(sealed string) ([]byte, error) { return j.Codec.Open(j.Name, sealed) }

// chunkIndex returns i when name is the jar's chunk i (0 for Name itself).
func (j *Jar) chunkIndex(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, j.Name)
	if !ok {
		return 0, false
	}
	if rest == "" {
		return 0, true
	}
	if len(rest) != 2 || rest[0] != '-' || rest[1] < '1' || rest[1] >= '0'+MaxChunks {
		return 0, false
	}
	return int(rest[1] - '0'), true
}

// Write seals plaintext and sets it as a run of cookies that live for maxAge (whole seconds),
// and clears any chunk of an earlier, longer value that r carries. A maxAge under one second
// clears the value instead.
func (j *Jar) Write(w http.ResponseWriter, r *http.Request, plaintext []byte, maxAge time.Duration) error {
	seconds := int(maxAge / time.Second)
	if seconds <= 0 {
		j.Clear(w, r)
		return nil
	}
	sealed, err := j.Codec.Seal(j.Name, plaintext)
	if err != nil {
		return err
	}
	size := j.ChunkSize
	if size <= 0 {
		size = DefaultChunkSize
	}
	size -= 2 // room for the "<n>." header on the first chunk
	n := (len(sealed) + size - 1) / size
	if n > MaxChunks {
		return fmt.Errorf("cookie %s: sealed value of %d bytes needs %d chunks, more than %d", j.Name, len(sealed), n, MaxChunks)
	}
	for i := range n {
		part := sealed[i*size : min((i+1)*size, len(sealed))]
		if i == 0 {
			part = strconv.Itoa(n) + "." + part
		}
		http.SetCookie(w, j.cookie(j.chunkName(i), part, seconds))
	}
	j.clearFrom(w, r, n)
	return nil
}

// Clear expires every chunk of the value that r carries (and the first cookie always).
func (j *Jar) Clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, j.cookie(j.Name, "", -1))
	j.clearFrom(w, r, 1)
}

// clearFrom expires the chunks numbered from on that r carries.
func (j *Jar) clearFrom(w http.ResponseWriter, r *http.Request, from int) {
	if r == nil {
		return
	}
	prefix := j.Name + "-"
	for _, c := range r.Cookies() {
		rest, ok := strings.CutPrefix(c.Name, prefix)
		if !ok {
			continue
		}
		i, err := strconv.Atoi(rest)
		if err != nil || i < from || i >= MaxChunks*2 {
			continue
		}
		http.SetCookie(w, j.cookie(c.Name, "", -1))
	}
}

func (j *Jar) cookie(name, value string, maxAge int) *http.Cookie {
	//nolint:gosec // Secure and HttpOnly always; SameSite is the jar's (Strict or Lax)
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   true,
		HttpOnly: true,
		SameSite: j.SameSite,
	}
}

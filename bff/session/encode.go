package session

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// formatDeflate marks a cookie session's plaintext as DEFLATE-compressed JSON: the byte
// before the compressed stream. A plaintext that starts with '{' is a session written
// uncompressed (before compression, or by an older BFF), which still opens.
const formatDeflate = 0x01

// maxSessionJSON bounds the JSON a cookie session inflates to. The plaintext is
// authenticated (only a holder of the cookie keys could have sealed it), so this is defence
// in depth against a compression bomb: a real session is a few kilobytes.
const maxSessionJSON = 64 << 10

// errSessionFormat reports a cookie plaintext that is neither JSON nor compressed JSON.
var errSessionFormat = errors.New("session: unknown cookie format")

// codec encodes sessions into cookie plaintexts and back. The cookie travels with every
// request, and the BFF parses its bytes (headers, cookie values) on every call before the
// opened-session cache can help, so a smaller cookie is cheaper per call: DEFLATE shrinks
// the JSON of a session with Cognito-like tokens by about a quarter, to a single chunk.
// JWTs are base64url, so most of the gain is Huffman coding of their 64-symbol alphabet.
//
// A compressor holds about 800 KiB of state whatever its level, so the codec keeps one for
// good (a sync.Pool would lose it at every garbage collection, and the BFF collects every few
// milliseconds under load); a save that finds it busy uses one of its own.
type codec struct {
	mu      sync.Mutex    // guards writer
	writer  *flate.Writer // nil until the first save
	readers sync.Pool     // io.ReadCloser that is also a flate.Resetter
}

// encode returns the cookie plaintext of s: formatDeflate and the DEFLATE of its JSON.
func (c *codec) encode(s *Session) ([]byte, error) {
	// The tokens are in the payload on purpose: the jar seals it with AES-256-GCM.
	raw, err := json.Marshal(s) //nolint:gosec // sealed before it leaves the process
	if err != nil {
		return nil, fmt.Errorf("encode session: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(1 + len(raw))
	buf.WriteByte(formatDeflate)
	if c.mu.TryLock() {
		defer c.mu.Unlock()
		if c.writer == nil {
			c.writer = newWriter(&buf)
		} else {
			c.writer.Reset(&buf)
		}
		err = compress(c.writer, raw)
	} else {
		err = compress(newWriter(&buf), raw)
	}
	if err != nil {
		return nil, fmt.Errorf("compress session: %w", err)
	}
	return buf.Bytes(), nil
}

// newWriter returns a compressor writing to w. Level 9 costs nothing noticeable on a few
// kilobytes written at sign-in, refresh and touch; flate.NewWriter fails only for an invalid
// level.
func newWriter(w io.Writer) *flate.Writer {
	fw, _ := flate.NewWriter(w, flate.BestCompression)
	return fw
}

// compress writes raw through w and ends the stream.
func compress(w *flate.Writer, raw []byte) error {
	if _, err := w.Write(raw); err != nil {
		return err
	}
	return w.Close()
}

// decode returns the session in a cookie plaintext encode made (or an uncompressed JSON
// one). Every failure is a malformed session.
func (c *codec) decode(plain []byte) (*Session, error) {
	raw := plain
	switch {
	case len(plain) > 0 && plain[0] == '{':
	case len(plain) > 0 && plain[0] == formatDeflate:
		var err error
		if raw, err = c.inflate(plain[1:]); err != nil {
			return nil, err
		}
	default:
		return nil, errSessionFormat
	}
	s := new(Session)
	if err := json.Unmarshal(raw, s); err != nil {
		return nil, fmt.Errorf("decode session: %w", err)
	}
	if s.ID == "" {
		return nil, errors.New("decode session: no id")
	}
	return s, nil
}

// inflate decompresses one whole DEFLATE stream of at most maxSessionJSON bytes, refusing
// a truncated stream and bytes after its end.
func (c *codec) inflate(compressed []byte) ([]byte, error) {
	src := bytes.NewReader(compressed)
	r, _ := c.readers.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReader(src)
	} else if err := r.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, fmt.Errorf("inflate session: %w", err)
	}
	defer c.readers.Put(r)
	out, err := io.ReadAll(io.LimitReader(r, maxSessionJSON+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("inflate session: %w", err)
	case len(out) > maxSessionJSON:
		return nil, fmt.Errorf("inflate session: more than %d bytes", maxSessionJSON)
	case src.Len() != 0:
		return nil, errors.New("inflate session: bytes after the compressed stream")
	}
	return out, nil
}

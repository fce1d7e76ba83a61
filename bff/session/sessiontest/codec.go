package sessiontest

import (
	"bytes"
	"testing"

	"github.com/portico-dev/portico/bff/cookie"
)

// Codec returns a cookie codec with one key (id "k1") whose every byte is b, for stores
// under test: codecs made with different bytes cannot open each other's sealed values.
func Codec(t testing.TB, b byte) *cookie.Codec {
	t.Helper()
	c, err := cookie.NewCodec(cookie.Key{ID: "k1", Secret: bytes.Repeat([]byte{b}, cookie.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

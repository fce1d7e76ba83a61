package cookie

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func testKey(t testing.TB, id string, fill byte) Key {
	t.Helper()
	return Key{ID: id, Secret: bytes.Repeat([]byte{fill}, KeySize)}
}

func testCodec(t testing.TB, keys ...Key) *Codec {
	t.Helper()
	c, err := NewCodec(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCodecRoundTripAndRotation(t *testing.T) {
	t.Parallel()
	old := testKey(t, "k1", 1)
	next := testKey(t, "k2", 2)
	oldCodec := testCodec(t, old)
	rotated := testCodec(t, next, old)
	newOnly := testCodec(t, next)

	sealedOld, err := oldCodec.Seal("__Host-s", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealedOld, "k1.") {
		t.Fatalf("sealed value %q does not start with its key id", sealedOld)
	}
	sealedNew, err := rotated.Seal("__Host-s", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		codec   *Codec
		cookie  string
		value   string
		wantErr error
	}{
		{"same key", oldCodec, "__Host-s", sealedOld, nil},
		{"older key still in ring", rotated, "__Host-s", sealedOld, nil},
		{"new key", rotated, "__Host-s", sealedNew, nil},
		{"older key dropped from ring", newOnly, "__Host-s", sealedOld, ErrUnknownKey},
		{"new key unknown to old ring", oldCodec, "__Host-s", sealedNew, ErrUnknownKey},
		{"other cookie name", rotated, "__Host-t", sealedOld, ErrInvalid},
		{"key id swapped", rotated, "__Host-s", "k2" + strings.TrimPrefix(sealedOld, "k1"), ErrInvalid},
		{"truncated", rotated, "__Host-s", sealedOld[:len(sealedOld)-3], ErrInvalid},
		{"flipped byte", rotated, "__Host-s", flip(sealedOld, len(sealedOld)-5), ErrInvalid},
		{"empty", rotated, "__Host-s", "", ErrInvalid},
		{"no payload", rotated, "__Host-s", "k1.", ErrInvalid},
		{"bad key id", rotated, "__Host-s", "k 1.AAAA", ErrInvalid},
		{"not base64", rotated, "__Host-s", "k1.!!!!", ErrInvalid},
		{"short", rotated, "__Host-s", "k1.AAAA", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.codec.Open(tt.cookie, tt.value)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && string(got) != "hello" {
				t.Fatalf("Open = %q, want hello", got)
			}
		})
	}
}

func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestNewCodecRefusesBadKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		keys []Key
	}{
		{"none", nil},
		{"short secret", []Key{{ID: "a", Secret: make([]byte, 16)}}},
		{"empty id", []Key{{ID: "", Secret: make([]byte, KeySize)}}},
		{"id with dot", []Key{{ID: "a.b", Secret: make([]byte, KeySize)}}},
		{"long id", []Key{{ID: strings.Repeat("a", 17), Secret: make([]byte, KeySize)}}},
		{"duplicate id", []Key{{ID: "a", Secret: make([]byte, KeySize)}, {ID: "a", Secret: make([]byte, KeySize)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := NewCodec(tt.keys...); err == nil {
				t.Fatal("NewCodec accepted bad keys")
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	keys, err := ParseKeys("new:" + strings.Repeat("A", 43) + "=, old:" + strings.Repeat("_", 43))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "new" || keys[1].ID != "old" {
		t.Fatalf("ParseKeys = %+v", keys)
	}
	for _, bad := range []string{"", "nokey", "a:short", "a:" + strings.Repeat("*", 43)} {
		if _, err := ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
}

// TestParseKeysNeverEchoesSecrets: whatever is wrong with a key list, the error never
// contains secret material (it ends up in logs and in Lambda's init error).
func TestParseKeysNeverEchoesSecrets(t *testing.T) {
	t.Parallel()
	const secret = "Zm9vYmFyU2VjcmV0VmFsdWVYWVo" // a recognisable, unique marker
	good := "k1:" + base64.StdEncoding.EncodeToString(make([]byte, KeySize))
	tests := []struct {
		name, keys string
		want       string // in the error
	}{
		{"placeholder without kid (first rotation)", good + "," + secret, "key 2: want kid:base64key"},
		{"bare key", secret, "key 1: want kid:base64key"},
		{"key and id swapped", secret + "xxxxxxxxxxxxxxxxx" + ":k1", "key 1: the id must be"},
		{"id is the secret", secret + ":" + strings.Repeat("A", 43), "key 1: the id must be"},
		{"short key", "k1:" + secret, "key 1 (k1): 20 bytes, want 32"},
		{"not base64", "k1:" + secret + "!!", "key 1 (k1): not base64"},
		{"secret in a later item", good + ", k2:" + secret + "*", "key 2 (k2): not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseKeys(tt.keys)
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains the secret", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
		})
	}
	if _, err := NewCodec(Key{ID: secret, Secret: make([]byte, KeySize)}); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("NewCodec with a secret as id: %v", err)
	}
}

// FuzzOpen checks that Open never panics and that only genuine sealed values open.
func FuzzOpen(f *testing.F) {
	codec := testCodec(f, testKey(f, "k1", 1), testKey(f, "k0", 9))
	genuine, err := codec.Seal("__Host-portico-session", []byte(`{"sub":"alice"}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(genuine)
	f.Add("")
	f.Add("k1.")
	f.Add("k1." + strings.Repeat("A", 40))
	f.Fuzz(func(t *testing.T, value string) {
		plaintext, err := codec.Open("__Host-portico-session", value)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("Open returned unexpected error %v", err)
			}
			return
		}
		// The only values ever sealed with these keys carry this plaintext: anything else
		// opening would be a forgery.
		if string(plaintext) != `{"sub":"alice"}` {
			t.Fatalf("Open accepted a value it did not seal: %q", value)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	codec := testCodec(b, testKey(b, "k1", 1))
	plaintext := bytes.Repeat([]byte("x"), 3200) // access + refresh token and claims
	b.SetBytes(int64(len(plaintext)))
	for b.Loop() {
		if _, err := codec.Seal("__Host-portico-session", plaintext); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	codec := testCodec(b, testKey(b, "k1", 1))
	plaintext := bytes.Repeat([]byte("x"), 3200)
	sealed, err := codec.Seal("__Host-portico-session", plaintext)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plaintext)))
	for b.Loop() {
		if _, err := codec.Open("__Host-portico-session", sealed); err != nil {
			b.Fatal(err)
		}
	}
}

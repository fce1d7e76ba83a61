// Package attachmenttest is the contract every attachment.Store implementation must hold.
// An implementation's tests call [Run] with a factory that opens a fresh, empty store.
package attachmenttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/portico-dev/portico/services/attachment"
)

// Factory opens a fresh, empty store for t, and returns it with a function listing the
// path of every object it holds ("<owner>/<conversation>/<name>", relative to its folder or
// bucket), with which the suite checks that nothing was written outside the layout. Cleanup
// is the factory's (t.Cleanup).
type Factory func(t *testing.T) (attachment.Store, func() []string)

// Run runs the contract suite against stores made by open.
func Run(t *testing.T, open Factory) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"RoundTrip", testRoundTrip},
		{"Replace", testReplace},
		{"NotFound", testNotFound},
		{"DeleteConversation", testDeleteConversation},
		{"ConcurrentPutsNeverTear", testConcurrentPuts},
		{"HostileKeysRefused", testHostileKeysRefused},
		{"HostileOwnersEncoded", testHostileOwnersEncoded},
		{"ContentTypes", testContentTypes},
		{"CancelledContext", testCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open)
		})
	}
}

// layout is the one form a stored object's path may take.
var layout = regexp.MustCompile(`^[A-Za-z0-9_-]{43}/` + attachment.IDPattern + `/` + attachment.IDPattern + `$`)

// checkLayout fails t for every listed path outside the layout.
func checkLayout(t *testing.T, list func() []string) {
	t.Helper()
	for _, p := range list() {
		if !layout.MatchString(p) {
			t.Errorf("stored object %q is outside <owner-hash>/<conversation>/<name>", p)
		}
	}
}

func put(t *testing.T, s attachment.Store, k attachment.Key, ct string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), k, ct, data); err != nil {
		t.Fatalf("Put(%+v): %v", k, err)
	}
}

func wantObject(t *testing.T, s attachment.Store, k attachment.Key, ct string, data []byte) {
	t.Helper()
	got, err := s.Get(context.Background(), k)
	if err != nil {
		t.Fatalf("Get(%+v): %v", k, err)
	}
	if got.ContentType != ct || !bytes.Equal(got.Data, data) {
		t.Fatalf("Get(%+v) = %q, %d bytes; want %q, %d bytes", k, got.ContentType, len(got.Data), ct, len(data))
	}
}

func wantNotFound(t *testing.T, s attachment.Store, k attachment.Key) {
	t.Helper()
	_, err := s.Get(context.Background(), k)
	if !errors.Is(err, attachment.ErrNotFound) {
		t.Fatalf("Get(%+v) = %v, want ErrNotFound", k, err)
	}
	if errors.Is(err, attachment.ErrUnavailable) {
		t.Fatalf("Get(%+v) = %v: not found must not also be unavailable", k, err)
	}
}

// binary is data with every byte value, newlines and NULs included.
func binary(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

func testRoundTrip(t *testing.T, open Factory) {
	s, list := open(t)
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "img-1"}
	put(t, s, k, "image/png", binary(70_000))
	wantObject(t, s, k, "image/png", binary(70_000))
	empty := attachment.Key{Owner: "alice", Conversation: "c1", Name: "empty.txt"}
	put(t, s, empty, "text/plain; charset=utf-8", nil)
	wantObject(t, s, empty, "text/plain; charset=utf-8", nil)
	if got := len(list()); got != 2 {
		t.Errorf("store holds %d objects, want 2", got)
	}
	checkLayout(t, list)
}

func testReplace(t *testing.T, open Factory) {
	s, list := open(t)
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"}
	put(t, s, k, "image/png", []byte("first, longer than the second"))
	put(t, s, k, "image/jpeg", []byte("second"))
	wantObject(t, s, k, "image/jpeg", []byte("second"))
	if got := len(list()); got != 1 {
		t.Errorf("store holds %d objects after a replace, want 1 (no temporary left)", got)
	}
}

func testNotFound(t *testing.T, open Factory) {
	s, _ := open(t)
	put(t, s, attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"}, "image/png", []byte("x"))
	for _, k := range []attachment.Key{
		{Owner: "alice", Conversation: "c1", Name: "b"},       // another name
		{Owner: "alice", Conversation: "c2", Name: "a"},       // another conversation
		{Owner: "bob", Conversation: "c1", Name: "a"},         // another owner, same ids
		{Owner: "Alice", Conversation: "c1", Name: "a"},       // owners are exact
		{Owner: "alice ", Conversation: "c1", Name: "a"},      // no trimming
		{Owner: "alice", Conversation: "C1", Name: "a"},       // ids are exact
		{Owner: "never-stored", Conversation: "x", Name: "y"}, // nothing at all
	} {
		wantNotFound(t, s, k)
	}
}

func testDeleteConversation(t *testing.T, open Factory) {
	s, list := open(t)
	ctx := context.Background()
	for i := range 5 {
		put(t, s, attachment.Key{Owner: "alice", Conversation: "c1", Name: fmt.Sprintf("a%d", i)}, "image/png", []byte{byte(i)})
	}
	keep := []attachment.Key{
		{Owner: "alice", Conversation: "c10", Name: "a0"}, // a conversation whose id extends c1
		{Owner: "alice", Conversation: "c2", Name: "a0"},
		{Owner: "bob", Conversation: "c1", Name: "a0"}, // the same conversation id, another owner
	}
	for _, k := range keep {
		put(t, s, k, "image/png", []byte(k.Owner+k.Conversation))
	}
	if err := s.DeleteConversation(ctx, "alice", "c1"); err != nil {
		t.Fatalf("DeleteConversation: %v", err)
	}
	for i := range 5 {
		wantNotFound(t, s, attachment.Key{Owner: "alice", Conversation: "c1", Name: fmt.Sprintf("a%d", i)})
	}
	for _, k := range keep {
		wantObject(t, s, k, "image/png", []byte(k.Owner+k.Conversation))
	}
	if got := len(list()); got != len(keep) {
		t.Errorf("store holds %d objects, want %d", got, len(keep))
	}
	for _, c := range [][2]string{{"alice", "c1"}, {"alice", "never"}, {"nobody", "c1"}} {
		if err := s.DeleteConversation(ctx, c[0], c[1]); err != nil {
			t.Errorf("DeleteConversation(%q, %q) of nothing = %v, want nil", c[0], c[1], err)
		}
	}
	// A conversation deleted can be written again.
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "again"}
	put(t, s, k, "image/gif", []byte("again"))
	wantObject(t, s, k, "image/gif", []byte("again"))
}

func testConcurrentPuts(t *testing.T, open Factory) {
	s, list := open(t)
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "race"}
	values := make([][]byte, 8)
	for i := range values {
		values[i] = bytes.Repeat([]byte{byte('a' + i)}, 32<<10)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(values))
	for i := range values {
		wg.Go(func() { errs <- s.Put(context.Background(), k, "image/png", values[i]) })
		wg.Go(func() {
			got, err := s.Get(context.Background(), k)
			switch {
			case errors.Is(err, attachment.ErrNotFound):
			case err != nil:
				errs <- err
			case !slicesContain(values, got.Data):
				errs <- fmt.Errorf("a concurrent Get saw %d bytes that no Put wrote whole", len(got.Data))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got, err := s.Get(context.Background(), k)
	if err != nil || !slicesContain(values, got.Data) {
		t.Fatalf("after the race Get = %d bytes, %v; want one Put's bytes whole", len(got.Data), err)
	}
	if n := len(list()); n != 1 {
		t.Errorf("store holds %d objects after the race, want 1 (no temporary left)", n)
	}
}

func slicesContain(values [][]byte, b []byte) bool {
	for _, v := range values {
		if bytes.Equal(v, b) {
			return true
		}
	}
	return false
}

// hostileIDs are conversation ids and names every store refuses.
var hostileIDs = []struct{ name, id string }{
	{"empty", ""},
	{"dot", "."},
	{"dot dot", ".."},
	{"parent", "../x"},
	{"deep parent", "../../../../etc/passwd"},
	{"parent after a name", "a/../../b"},
	{"slash", "a/b"},
	{"leading slash", "/etc"},
	{"trailing slash", "a/"},
	{"backslash", `a\b`},
	{"backslash parent", `..\..\x`},
	{"NUL", "a\x00b"},
	{"trailing NUL", "a\x00"},
	{"newline", "a\nb"},
	{"carriage return", "a\rb"},
	{"tab", "a\tb"},
	{"space", "a b"},
	{"hidden file", ".tmp-0011223344556677"},
	{"leading dash", "-rf"},
	{"percent-encoded slash", "a%2fb"},
	{"percent-encoded parent", "%2e%2e"},
	{"query", "a?b"},
	{"fragment", "a#b"},
	{"colon", "c:x"},
	{"tilde", "~root"},
	{"asterisk", "a*"},
	{"unicode letter", "café"},
	{"fullwidth slash", "a／b"},
	{"fullwidth dots", "．．"},
	{"division slash", "a∕b"},
	{"right-to-left override", "a\u202eb"},
	{"zero-width space", "a\u200bb"},
	{"invalid UTF-8", "a\xffb"},
	{"too long", strings.Repeat("a", attachment.MaxIDLength+1)},
	{"very long", strings.Repeat("../", 10_000)},
}

func testHostileKeysRefused(t *testing.T, open Factory) {
	s, list := open(t)
	ctx := context.Background()
	good := attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"}
	put(t, s, good, "image/png", []byte("victim"))
	var keys []attachment.Key
	for _, h := range hostileIDs {
		keys = append(keys,
			attachment.Key{Owner: "alice", Conversation: h.id, Name: "a"},
			attachment.Key{Owner: "alice", Conversation: "c1", Name: h.id},
		)
	}
	keys = append(keys,
		attachment.Key{Owner: "", Conversation: "c1", Name: "a"},
		attachment.Key{Owner: strings.Repeat("x", attachment.MaxOwnerLength+1), Conversation: "c1", Name: "a"},
	)
	for _, k := range keys {
		if err := s.Put(ctx, k, "image/png", []byte("attack")); !errors.Is(err, attachment.ErrInvalid) {
			t.Errorf("Put(%q) = %v, want ErrInvalid", k, err)
		}
		if _, err := s.Get(ctx, k); !errors.Is(err, attachment.ErrInvalid) {
			t.Errorf("Get(%q) = %v, want ErrInvalid", k, err)
		}
		if k.Name != "a" {
			continue // a hostile name: the owner and conversation are the victim's
		}
		if err := s.DeleteConversation(ctx, k.Owner, k.Conversation); !errors.Is(err, attachment.ErrInvalid) {
			t.Errorf("DeleteConversation(%q, %q) = %v, want ErrInvalid", k.Owner, k.Conversation, err)
		}
	}
	wantObject(t, s, good, "image/png", []byte("victim"))
	if n := len(list()); n != 1 {
		t.Errorf("store holds %d objects after refused attacks, want 1", n)
	}
	checkLayout(t, list)
}

// hostileOwners are owners (subjects, which may hold any character) that every store
// accepts and keeps apart, never as a name.
var hostileOwners = []string{
	"../../../../tmp/x",
	"..",
	".",
	"/",
	"alice/../bob",
	"alice/c1",
	"a\x00b",
	"a\\b",
	"entra:tenant/oid",
	"Ålice",
	"a／b",
	"\u202eecila",
	"a\xffb",
	"%2e%2e%2f",
	strings.Repeat("../", attachment.MaxOwnerLength/3),
	strings.Repeat("é", attachment.MaxOwnerLength/2),
}

func testHostileOwnersEncoded(t *testing.T, open Factory) {
	s, list := open(t)
	ctx := context.Background()
	for i, o := range hostileOwners {
		put(t, s, attachment.Key{Owner: o, Conversation: "c1", Name: "a"}, "image/png", []byte{byte(i)})
	}
	for i, o := range hostileOwners {
		wantObject(t, s, attachment.Key{Owner: o, Conversation: "c1", Name: "a"}, "image/png", []byte{byte(i)})
	}
	if n := len(list()); n != len(hostileOwners) {
		t.Errorf("store holds %d objects, want %d (one per owner)", n, len(hostileOwners))
	}
	checkLayout(t, list)
	// Deleting one owner's conversation leaves every other owner's.
	if err := s.DeleteConversation(ctx, hostileOwners[0], "c1"); err != nil {
		t.Fatal(err)
	}
	wantNotFound(t, s, attachment.Key{Owner: hostileOwners[0], Conversation: "c1", Name: "a"})
	for i, o := range hostileOwners[1:] {
		wantObject(t, s, attachment.Key{Owner: o, Conversation: "c1", Name: "a"}, "image/png", []byte{byte(i + 1)})
	}
}

func testContentTypes(t *testing.T, open Factory) {
	s, list := open(t)
	ctx := context.Background()
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"}
	for _, ct := range []string{"image/png", "application/pdf", "text/csv; charset=utf-8", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"} {
		put(t, s, k, ct, []byte(ct))
		wantObject(t, s, k, ct, []byte(ct))
	}
	for _, ct := range []string{
		"",
		"image",
		"image/png\r\nX-Injected: 1",
		"image/png\nx",
		"image/png\x00",
		"imäge/png",
		"image/png; a=\"unterminated",
		"image/" + strings.Repeat("x", attachment.MaxContentTypeLength),
	} {
		if err := s.Put(ctx, k, ct, []byte("attack")); !errors.Is(err, attachment.ErrInvalid) {
			t.Errorf("Put with content type %q = %v, want ErrInvalid", ct, err)
		}
	}
	wantObject(t, s, k, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		[]byte("application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
	if n := len(list()); n != 1 {
		t.Errorf("store holds %d objects, want 1", n)
	}
}

func testCancelled(t *testing.T, open Factory) {
	s, list := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	k := attachment.Key{Owner: "alice", Conversation: "c1", Name: "a"}
	if err := s.Put(ctx, k, "image/png", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put on a cancelled context = %v, want context.Canceled", err)
	}
	if _, err := s.Get(ctx, k); !errors.Is(err, context.Canceled) {
		t.Errorf("Get on a cancelled context = %v, want context.Canceled", err)
	}
	if err := s.DeleteConversation(ctx, "alice", "c1"); !errors.Is(err, context.Canceled) {
		t.Errorf("DeleteConversation on a cancelled context = %v, want context.Canceled", err)
	}
	if n := len(list()); n != 0 {
		t.Errorf("store holds %d objects after a cancelled Put, want 0", n)
	}
}

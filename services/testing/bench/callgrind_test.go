package bench

import (
	"os"
	"path/filepath"
	"testing"
)

// A callgrind output file in the format valgrind 3.19 writes: name compression, an inlined
// file change (fi=), relative line numbers, and calls= lines whose next cost line is the
// callee's inclusive cost (not the caller's own).
const callgrindSample = `version: 1
creator: callgrind-3.19.0
pid: 42
cmd:  ./portico-bff
part: 1

desc: Trigger: dump converse

positions: line
events: Ir
summary: 1040

ob=(1) /tmp/portico-bff
fl=(1) /usr/local/go/src/net/http/server.go
fn=(1) net/http.(*conn).serve
10 100
+2 50
cfl=(2) /usr/local/go/src/encoding/json/decode.go
cfn=(2) encoding/json.Unmarshal
calls=3 5
+1 700
fl=(2)
fn=(2)
5 400
fi=(3) /usr/local/go/src/unicode/utf8/utf8.go
7 200
fe=(2)
* 50
fl=(1)
fn=(1)
12 100
fn=(3) runtime.scanobject
1 100
fn=(4) net/http.(*conn).serve'2
3 40

totals: 1040
`

func TestReadCallgrind(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "callgrind.out")
	if err := os.WriteFile(path, []byte(callgrindSample), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := ReadCallgrind(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 1040 {
		t.Errorf("total %d, want 1040", p.Total)
	}
	want := []FunctionCost{{"encoding/json.Unmarshal", 650}, {"net/http.(*conn).serve", 290}}
	if len(p.Top) != len(want) {
		t.Fatalf("top %v, want %v", p.Top, want)
	}
	for i := range want {
		if p.Top[i] != want[i] {
			t.Errorf("top[%d] = %v, want %v", i, p.Top[i], want[i])
		}
	}
	if _, err := ReadCallgrind(filepath.Join(t.TempDir(), "missing"), 5); err == nil {
		t.Error("a missing file read without error")
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, []byte("version: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCallgrind(empty, 5); err == nil {
		t.Error("a file without totals read without error")
	}
}

package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
)

// console serialises the launcher's and its children's output, one whole line at a time.
type console struct {
	mu  sync.Mutex
	out io.Writer
}

// printf writes one or more lines under the launcher's own prefix.
func (c *console) printf(format string, args ...any) {
	c.line("dev", fmt.Sprintf(format, args...))
}

// line writes text, each of its lines prefixed with name.
func (c *console) line(name, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for l := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
		_, _ = fmt.Fprintf(c.out, "%-8s │ %s\n", name, l)
	}
}

// tail keeps the last lines a child wrote, for error reports.
type tail struct {
	mu    sync.Mutex
	lines []string
	max   int
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

// String returns the kept lines, indented, or a note that there were none.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return "    (no output)"
	}
	return "    " + strings.Join(t.lines, "\n    ")
}

// lineWriter is an io.Writer that cuts a child's output into lines, prefixes each with the
// child's name on the console and remembers it in the child's tail.
type lineWriter struct {
	name    string
	console *console
	tail    *tail
	buf     bytes.Buffer
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		w.emit(string(w.buf.Next(i + 1)[:i]))
	}
	// Do not let a child that never ends a line grow the buffer without bound.
	if w.buf.Len() > 64<<10 {
		w.flush()
	}
	return len(p), nil
}

// flush writes a final unterminated line, if any.
func (w *lineWriter) flush() {
	if w.buf.Len() > 0 {
		w.emit(w.buf.String())
		w.buf.Reset()
	}
}

func (w *lineWriter) emit(line string) {
	line = strings.TrimRight(line, "\r")
	w.tail.add(line)
	w.console.line(w.name, line)
}

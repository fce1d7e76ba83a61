package requestid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"testing"

	"github.com/portico-dev/portico/bff/requestid"
)

var traceID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestNew(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 1000 {
		id := requestid.New()
		if !traceID.MatchString(id) || id == "00000000000000000000000000000000" {
			t.Fatalf("id %q is not a W3C trace id", id)
		}
		if seen[id] {
			t.Fatalf("id %q twice", id)
		}
		seen[id] = true
	}
}

func TestLogHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(requestid.LogHandler(slog.NewJSONHandler(&buf, nil))).With("piece", "bff")
	log.InfoContext(requestid.NewContext(context.Background(), "rid-1"), "with")
	log.InfoContext(context.Background(), "without")
	dec := json.NewDecoder(&buf)
	for _, want := range []string{"rid-1", ""} {
		var line map[string]any
		if err := dec.Decode(&line); err != nil {
			t.Fatal(err)
		}
		got, _ := line["request_id"].(string)
		if got != want || line["piece"] != "bff" {
			t.Fatalf("line %v: request_id %q, want %q", line, got, want)
		}
	}
}

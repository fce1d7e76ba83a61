package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/platform/server/servertest"
)

// TestResponseCompression checks which unary answers the server compresses when the client
// accepts gzip (only those of 4 KiB or more) and how: gzip at BestSpeed, byte for byte.
func TestResponseCompression(t *testing.T) {
	t.Parallel()
	r := start(t)
	tests := []struct {
		name       string
		size       int // of the echoed text
		compressed bool
	}{
		{"small", 100, false},
		{"just above the former 1 KiB threshold", 1100, false},
		{"below 4 KiB", 4000, false},
		{"above 4 KiB", 5000, true},
		{"large", 200 << 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in, err := json.Marshal(strings.Repeat("portico ", tt.size/8))
			if err != nil {
				t.Fatal(err)
			}
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, r.url+servertest.EchoProcedure, bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept-Encoding", "gzip") // set by hand: the transport leaves the body as sent
			req.Header.Set("Authorization", goodToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, raw)
			}
			ce := resp.Header.Get("Content-Encoding")
			if got := ce == "gzip"; got != tt.compressed {
				t.Fatalf("Content-Encoding %q, want compressed = %v", ce, tt.compressed)
			}
			body := raw
			if tt.compressed {
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
				// The same bytes at BestSpeed: the server's level.
				var want bytes.Buffer
				zw, _ := gzip.NewWriterLevel(&want, gzip.BestSpeed)
				_, _ = zw.Write(body)
				_ = zw.Close()
				if !bytes.Equal(raw, want.Bytes()) {
					t.Errorf("compressed answer (%d bytes, XFL %d) is not gzip at BestSpeed (%d bytes)", len(raw), raw[8], want.Len())
				}
			}
			var out string
			if err := json.Unmarshal(body, &out); err != nil || !strings.HasPrefix(out, "echo: portico ") {
				t.Errorf("answer %.40q (%v), want the echo", out, err)
			}
		})
	}
}

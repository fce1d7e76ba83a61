package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/telemetry"
	"github.com/portico-dev/portico/services/store"
)

// logSink collects JSON log lines; it is safe for concurrent use.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// requestIDs returns the request_id of every line, and the lines without one.
func (s *logSink) requestIDs(t *testing.T) (ids map[string]int, lines []map[string]any) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	ids = map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(s.buf.Bytes()))
	for dec.More() {
		var line map[string]any
		if err := dec.Decode(&line); err != nil {
			t.Fatalf("log line: %v", err)
		}
		lines = append(lines, line)
		if id, ok := line["request_id"].(string); ok {
			ids[id]++
		}
	}
	return ids, lines
}

// TestOneRequestIDAcrossTheHop sends a browser's calls through the whole chain (BFF →
// services → local Bedrock → SQLite), each with an X-Request-Id of the browser's own choosing:
// the id the browser gets back (once) is the BFF's, and the same id names the call in the
// BFF's log, the services' log, the audit record, Portico-Request-Id and the answer's
// request_id; the browser's id appears nowhere.
func TestOneRequestIDAcrossTheHop(t *testing.T) {
	t.Parallel()
	var bffLogs, svcLogs logSink
	c := newChain(t, chainOptions{
		bffLog:      slog.New(slog.NewJSONHandler(&bffLogs, nil)),
		servicesLog: telemetry.NewLogger(&svcLogs, logs.JSON, slog.LevelDebug),
	})
	api := c.viaBFF(c.browser("alice"))
	ctx := context.Background()
	const forged = "browser-chosen-id-1"

	// call is what the browser saw of one call: the X-Request-Id header, the request id in
	// the answer's body (or error), and Portico-Request-Id.
	type call struct {
		name, header, answerID, portico string
	}
	var calls []call

	// forging returns a call context whose request carries headers of the browser's choosing.
	forging := func() (context.Context, connect.CallInfo) {
		cctx, info := connect.NewClientContext(ctx)
		info.RequestHeader().Set("X-Request-Id", forged)
		info.RequestHeader().Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		return cctx, info
	}

	cctx, info := forging()
	resp, err := api.Converse(cctx, ask("hello", 50))
	if err != nil {
		t.Fatalf("Converse: %v", err)
	}
	if ids := info.ResponseHeader().Values("X-Request-Id"); len(ids) != 1 {
		t.Fatalf("Converse answer carries X-Request-Id %q, want exactly one", ids)
	}
	calls = append(calls, call{"Converse", info.ResponseHeader().Get("X-Request-Id"), resp.GetRequestId(), info.ResponseHeader().Get("Portico-Request-Id")})

	cctx, _ = forging()
	stream, err := api.ConverseStream(cctx, askStream("hello again", 50))
	if err != nil {
		t.Fatalf("ConverseStream: %v", err)
	}
	var startID string
	for stream.Receive() {
		if st := stream.Msg().GetStart(); st != nil {
			startID = st.GetRequestId()
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("ConverseStream: %v", err)
	}
	if ids := stream.ResponseHeader().Values("X-Request-Id"); len(ids) != 1 {
		t.Fatalf("ConverseStream answer carries X-Request-Id %q, want exactly one", ids)
	}
	calls = append(calls, call{"ConverseStream", stream.ResponseHeader().Get("X-Request-Id"), startID, stream.ResponseHeader().Get("Portico-Request-Id")})
	_ = stream.Close()
	c.books(2)

	// A refusal is audited under the same id too (a model alice may not use).
	refused := ask("hello", 50)
	refused.ModelId = "us.anthropic.claude-sonnet-4-20250514-v1:0" // Administrators only
	cctx, _ = forging()
	_, err = api.Converse(cctx, refused)
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodePermissionDenied {
		t.Fatalf("Converse of a model alice may not use: %v", err)
	}
	if ids := ce.Meta().Values("X-Request-Id"); len(ids) != 1 {
		t.Fatalf("refusal carries X-Request-Id %q, want exactly one", ids)
	}
	calls = append(calls, call{"Converse refused", ce.Meta().Get("X-Request-Id"), ce.Meta().Get("Portico-Request-Id"), ce.Meta().Get("Portico-Request-Id")})

	audit, err := c.store.ListAudit(ctx, store.AuditFilter{PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	audited := map[string]bool{}
	for _, r := range audit.Records {
		audited[r.RequestID] = true
	}
	bffIDs, _ := bffLogs.requestIDs(t)
	svcIDs, _ := svcLogs.requestIDs(t)
	for _, cl := range calls {
		id := cl.header
		if !telemetry.ValidRequestID(id) || len(id) != 32 || id == forged {
			t.Errorf("%s: the browser got request id %q", cl.name, id)
			continue
		}
		if cl.answerID != id || cl.portico != id {
			t.Errorf("%s: X-Request-Id %s, request_id in the answer %q, Portico-Request-Id %q", cl.name, id, cl.answerID, cl.portico)
		}
		if bffIDs[id] == 0 {
			t.Errorf("%s: no BFF log line with request_id %s", cl.name, id)
		}
		if svcIDs[id] == 0 {
			t.Errorf("%s: no services log line with request_id %s", cl.name, id)
		}
		if !audited[id] {
			t.Errorf("%s: no audit record with request id %s (records: %v)", cl.name, id, audited)
		}
	}
	for where, ids := range map[string]map[string]int{"BFF": bffIDs, "services": svcIDs} {
		if ids[forged] != 0 {
			t.Errorf("the %s log carries the browser's id", where)
		}
	}
	if audited[forged] || strings.Contains(calls[0].header, forged) {
		t.Error("the browser's id was adopted")
	}
}

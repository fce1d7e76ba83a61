package lambdahttp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
	"github.com/portico-dev/portico/services/platform/logs"
)

// TestStartup is a table of start-ups: the logger's format (JSON when the configuration
// named none) and what Fail does off Lambda, on Lambda (the init error reaches the Runtime
// API) and with a Runtime API that does not answer (the failed report is logged).
func TestStartup(t *testing.T) {
	t.Parallel()
	// A port nothing listens on: the report cannot be delivered.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	_ = l.Close()
	cfgErr := errors.New("PORTICO_ISSUER is required in production")
	tests := []struct {
		name       string
		format     logs.Format
		runtimeAPI string // "live" for a local Runtime API of the case's own
		fail       bool
		wantJSON   bool
		wantLogs   []string // each appears in the log output
		wantReport bool     // the Runtime API received the init error
	}{
		{name: "text, starts", format: logs.Text},
		{name: "json, starts", format: logs.JSON, wantJSON: true},
		{name: "no format read: json", wantJSON: true},
		{name: "fails off Lambda: logged only", format: logs.Text, fail: true,
			wantLogs: []string{"portico-x: configuration", "PORTICO_ISSUER is required"}},
		{name: "fails on Lambda: logged and reported", runtimeAPI: "live", fail: true, wantJSON: true,
			wantLogs: []string{"portico-x: configuration", "PORTICO_ISSUER is required"}, wantReport: true},
		{name: "fails on an unreachable Runtime API: the failed report is logged", runtimeAPI: dead, fail: true, wantJSON: true,
			wantLogs: []string{"portico-x: configuration", "reporting the init error to Lambda"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			api := runtimeapitest.New()
			t.Cleanup(api.Close)
			addr := tt.runtimeAPI
			if addr == "live" {
				addr = api.Addr()
			}
			var buf bytes.Buffer
			s := lambdahttp.NewStartup("portico-x", &buf, tt.format, func(k string) string {
				return map[string]string{lambdahttp.RuntimeAPIEnv: addr}[k]
			})
			s.Logger.Info("hello")
			if tt.fail {
				s.Fail(t.Context(), cfgErr)
			}
			out := buf.String()
			first, _, _ := strings.Cut(out, "\n")
			if isJSON := json.Valid([]byte(first)); isJSON != tt.wantJSON || !strings.Contains(first, "hello") {
				t.Errorf("first line %q: JSON %v, want %v", first, isJSON, tt.wantJSON)
			}
			for _, want := range tt.wantLogs {
				if !strings.Contains(out, want) {
					t.Errorf("logs %q do not hold %q", out, want)
				}
			}
			if !tt.fail && strings.Count(out, "\n") != 1 {
				t.Errorf("logs %q: want the one line logged", out)
			}
			// Fail returns once the Runtime API has accepted the report, which it queues first.
			select {
			case report := <-api.InitErrors():
				if !tt.wantReport {
					t.Errorf("unexpected init error %s", report.Body)
				} else if msg := runtimeapitest.ErrorMessage(report.Body); msg != cfgErr.Error() || report.Type != "Runtime.InitError" {
					t.Errorf("init error %s %q, want Runtime.InitError %q", report.Type, msg, cfgErr)
				}
			default:
				if tt.wantReport {
					t.Error("no init error reported")
				}
			}
		})
	}
}

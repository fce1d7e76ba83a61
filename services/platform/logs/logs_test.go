package logs_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/platform/logs"
)

func TestParseFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		value    string
		onLambda bool
		want     logs.Format
		wantErr  bool
	}{
		{"default", "", false, logs.Text, false},
		{"lambda default", "", true, logs.JSON, false},
		{"explicit text on lambda", "text", true, logs.Text, false},
		{"explicit json", "JSON", false, logs.JSON, false},
		{"blank", "  ", false, logs.Text, false},
		{"bad", "xml", false, "", true},
		{"bad on lambda", "logfmt", true, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := logs.ParseFormat(tt.value, tt.onLambda)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseFormat(%q, %v) = %q, %v; want %q, err %v", tt.value, tt.onLambda, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), logs.Env) {
				t.Errorf("error %q does not name %s", err, logs.Env)
			}
		})
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	var j, txt bytes.Buffer
	logs.New(&j, logs.JSON, slog.LevelInfo).Info("hello", "k", 1)
	logs.New(&txt, logs.Text, slog.LevelWarn).Info("dropped")
	logs.New(&txt, logs.Text, slog.LevelInfo).Info("hello", "k", 1)
	var rec map[string]any
	if err := json.Unmarshal(j.Bytes(), &rec); err != nil || rec["msg"] != "hello" {
		t.Errorf("json: %q, %v", j.String(), err)
	}
	if got := txt.String(); strings.Contains(got, "dropped") || !strings.Contains(got, "msg=hello k=1") {
		t.Errorf("text: %q", got)
	}
}

package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Format is a log output format.
type Format string

const (
	// FormatText is slog's key=value text format, the default on a developer machine.
	FormatText Format = "text"
	// FormatJSON is one JSON object per line, the default on Lambda (CloudWatch parses it).
	FormatJSON Format = "json"
)

// ParseFormat parses a PORTICO_LOG_FORMAT value. The empty string yields def.
func ParseFormat(s string, def Format) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return def, nil
	case string(FormatText):
		return FormatText, nil
	case string(FormatJSON):
		return FormatJSON, nil
	default:
		return "", fmt.Errorf("telemetry: unknown log format %q (want text or json)", s)
	}
}

// FormatFromEnv returns the log format chosen by PORTICO_LOG_FORMAT, defaulting to JSON when
// the process runs on Lambda (AWS_LAMBDA_RUNTIME_API is set) and to text otherwise.
func FormatFromEnv(getenv func(string) string) (Format, error) {
	def := FormatText
	if getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		def = FormatJSON
	}
	return ParseFormat(getenv("PORTICO_LOG_FORMAT"), def)
}

// NewLogger returns a logger writing in format to w at level and above. Every record logged
// with a context that carries a request id (see WithRequestID) gains a request_id attribute.
func NewLogger(w io.Writer, format Format, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if format == FormatJSON {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(contextHandler{h})
}

// contextHandler adds the request id found in a record's context.
type contextHandler struct{ slog.Handler }

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestIDFromContext(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if err := h.Handler.Handle(ctx, r); err != nil {
		return fmt.Errorf("telemetry: log: %w", err)
	}
	return nil
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{h.Handler.WithAttrs(attrs)}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{h.Handler.WithGroup(name)}
}

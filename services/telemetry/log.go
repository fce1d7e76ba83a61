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

// EnvLogFormat is the variable every Portico command reads its log format from.
const EnvLogFormat = "PORTICO_LOG_FORMAT"

// LogFormat is the one rule for PORTICO_LOG_FORMAT, shared by every command: "text" or
// "json" (any case); empty means json on AWS Lambda (onLambda: AWS_LAMBDA_RUNTIME_API is set;
// CloudWatch parses it) and text elsewhere. Anything else is an error naming the variable.
func LogFormat(value string, onLambda bool) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "":
		if onLambda {
			return FormatJSON, nil
		}
		return FormatText, nil
	case string(FormatText):
		return FormatText, nil
	case string(FormatJSON):
		return FormatJSON, nil
	default:
		return "", fmt.Errorf("%s=%q: want text or json", EnvLogFormat, value)
	}
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

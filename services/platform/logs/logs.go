// Package logs holds the one rule every Portico command follows for its logs: the format
// PORTICO_LOG_FORMAT selects (text or json; json by default on AWS Lambda, where CloudWatch
// parses it, text elsewhere) and the constructor of the slog logger writing it.
//
// It has no dependencies beyond the standard library, so the smallest Lambda binaries (the
// authorizer, the BFF) use it without OpenTelemetry; package telemetry builds its
// request-id-aware logger on the same handler.
package logs

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Env is the variable every Portico command reads its log format from.
const Env = "PORTICO_LOG_FORMAT"

// Format is a log output format.
type Format string

const (
	// Text is slog's key=value text format, the default on a developer machine.
	Text Format = "text"
	// JSON is one JSON object per line, the default on Lambda (CloudWatch parses it).
	JSON Format = "json"
)

// ParseFormat is the one rule for a PORTICO_LOG_FORMAT value: "text" or "json" (any case,
// surrounding blanks ignored); empty means JSON when onLambda (AWS_LAMBDA_RUNTIME_API is set)
// and Text otherwise. Anything else is an error naming the variable.
func ParseFormat(value string, onLambda bool) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "":
		if onLambda {
			return JSON, nil
		}
		return Text, nil
	case string(Text):
		return Text, nil
	case string(JSON):
		return JSON, nil
	default:
		return "", fmt.Errorf("%s=%q: want text or json", Env, value)
	}
}

// NewHandler returns a slog handler writing format to w at level and above.
func NewHandler(w io.Writer, format Format, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == JSON {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// New returns a logger writing format to w at level and above: the constructor every
// command uses (directly, or through telemetry.NewLogger, which adds request ids).
func New(w io.Writer, format Format, level slog.Leveler) *slog.Logger {
	return slog.New(NewHandler(w, format, level))
}

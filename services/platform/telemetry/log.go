package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/portico-dev/portico/services/platform/logs"
)

// NewLogger returns a logger writing format to w at level and above (the handler of
// logs.NewHandler, chosen by the one PORTICO_LOG_FORMAT rule, logs.ParseFormat). Every
// record logged with a context that carries a request id (see WithRequestID) gains a
// request_id attribute.
func NewLogger(w io.Writer, format logs.Format, level slog.Leveler) *slog.Logger {
	return slog.New(contextHandler{logs.NewHandler(w, format, level)})
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

// Package telemetry holds what every Portico server shares for observability: structured
// logs (log/slog, text locally and JSON on Lambda), request ids carried in the context (which
// services/server assigns, or adopts from the BFF, and returns as X-Request-Id), and OpenTelemetry providers that export over OTLP/HTTP
// only when OTEL_EXPORTER_OTLP_ENDPOINT is set and are silent no-ops otherwise.
//
// Nothing here is global: callers build a logger and providers once in main and pass them on.
package telemetry

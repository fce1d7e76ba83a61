// Package telemetry holds what Portico's RPC servers share for observability: structured
// logs that carry request ids (NewLogger, on the handler of package logs), request ids
// carried in the context (which services/platform/server assigns, or adopts from the BFF, and returns
// as X-Request-Id), and OpenTelemetry providers that export over OTLP/HTTP only when
// Export.Endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT, read by the command's configuration and
// validated by ParseExport) and are silent no-ops otherwise.
//
// Nothing here is global and nothing reads the environment: callers read their configuration
// once in main, build a logger and providers from it and pass them on.
package telemetry

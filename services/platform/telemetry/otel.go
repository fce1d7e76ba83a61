package telemetry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Providers are the OpenTelemetry providers of one process. Pass them to instrumentation
// explicitly (for example otelconnect.WithTracerProvider); they are never installed globally.
type Providers struct {
	// TracerProvider creates tracers; a no-op when export is off.
	TracerProvider trace.TracerProvider
	// MeterProvider creates meters; a no-op when export is off.
	MeterProvider metric.MeterProvider
	// Propagator reads and writes W3C trace context and baggage headers.
	Propagator propagation.TextMapPropagator
	// Exporting reports whether spans and metrics leave the process.
	Exporting bool

	flush    []func(context.Context) error
	shutdown []func(context.Context) error
}

// NewProviders returns providers exporting over OTLP/HTTP when export.Endpoint is set (spans
// go to <endpoint>/v1/traces and metrics to <endpoint>/v1/metrics as binary protobuf, as the
// OTLP specification says, with export.Headers and export.Timeout), and silent no-op
// providers otherwise. serviceName becomes service.name unless export.ServiceName or
// export.ResourceAttributes say otherwise. Commands build export with ParseExport from the
// standard OTEL_* variables.
func NewProviders(ctx context.Context, serviceName string, export Export) (*Providers, error) {
	p := &Providers{
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	endpoint := strings.TrimSuffix(export.Endpoint, "/")
	if endpoint == "" {
		return Noop(), nil
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", serviceName)}
	for _, k := range slices.Sorted(maps.Keys(export.ResourceAttributes)) {
		attrs = append(attrs, attribute.String(k, export.ResourceAttributes[k]))
	}
	if export.ServiceName != "" {
		attrs = append(attrs, attribute.String("service.name", export.ServiceName))
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attrs...), // later duplicates win
		resource.WithTelemetrySDK(),
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	client, err := newOTLPClient(endpoint, export)
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(spanExporter{client}), sdktrace.WithResource(res))
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metricExporter{client}, sdkmetric.WithInterval(30*time.Second))),
		sdkmetric.WithResource(res),
	)
	p.TracerProvider, p.MeterProvider, p.Exporting = tp, mp, true
	p.flush = []func(context.Context) error{tp.ForceFlush, mp.ForceFlush}
	p.shutdown = []func(context.Context) error{tp.Shutdown, mp.Shutdown}
	return p, nil
}

// Noop returns silent providers: spans and metrics are discarded where they are made.
func Noop() *Providers {
	return &Providers{
		TracerProvider: tracenoop.NewTracerProvider(),
		MeterProvider:  metricnoop.NewMeterProvider(),
		Propagator:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
}

// ForceFlush exports everything recorded so far. Lambda calls it after each invocation,
// because a frozen execution environment never runs the batchers' timers.
func (p *Providers) ForceFlush(ctx context.Context) error {
	var errs []error
	for _, f := range p.flush {
		errs = append(errs, f(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telemetry: flush: %w", err)
	}
	return nil
}

// Shutdown flushes and stops the exporters. It is a no-op for silent providers.
func (p *Providers) Shutdown(ctx context.Context) error {
	var errs []error
	for _, f := range p.shutdown {
		errs = append(errs, f(ctx))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("telemetry: shutdown: %w", err)
	}
	return nil
}

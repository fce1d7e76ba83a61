package metering

import (
	"context"
	"fmt"
	"io"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Observation is what one request did, as metrics count it.
type Observation struct {
	// ModelID is the model id or endpoint name.
	ModelID string
	// Provider is "bedrock" or "sagemaker".
	Provider string
	// Outcome is "ok" or the Connect code name of the error the caller got.
	Outcome string
	// InputTokens and OutputTokens are the settled usage.
	InputTokens, OutputTokens int64
	// Latency is from arrival to the last byte.
	Latency time.Duration
	// TimeToFirstToken is from arrival to the first generated content; zero when none came
	// or the call was unary.
	TimeToFirstToken time.Duration
	// UpstreamThrottled is true when the provider throttled the request.
	UpstreamThrottled bool
}

// Recorder records observations. Implementations are safe for concurrent use.
type Recorder interface {
	Record(ctx context.Context, o Observation)
}

// NewRecorder returns the recorder for the process: OpenTelemetry instruments on mp (nil
// records nothing there) and, when lambdaFunction is set (on Lambda, the value of
// AWS_LAMBDA_FUNCTION_NAME), CloudWatch Embedded Metric Format lines for that function
// written to stdout.
func NewRecorder(mp metric.MeterProvider, lambdaFunction string, stdout io.Writer) (Recorder, error) {
	var rs multiRecorder
	if mp != nil {
		o, err := NewOTelRecorder(mp)
		if err != nil {
			return nil, err
		}
		rs = append(rs, o)
	}
	if lambdaFunction != "" && stdout != nil {
		rs = append(rs, NewEMFRecorder(stdout, lambdaFunction))
	}
	return rs, nil
}

type multiRecorder []Recorder

func (m multiRecorder) Record(ctx context.Context, o Observation) {
	for _, r := range m {
		r.Record(ctx, o)
	}
}

// OTelRecorder records observations as OpenTelemetry metrics:
//
//	portico.inference.requests            counter   {model, provider, outcome}
//	portico.inference.errors              counter   {model, provider, outcome}
//	portico.inference.upstream_throttles  counter   {model, provider}
//	portico.inference.tokens              counter   {model, provider, direction=input|output}
//	portico.inference.latency             histogram seconds {model, provider, outcome}
//	portico.inference.time_to_first_token histogram seconds {model, provider}
type OTelRecorder struct {
	requests, errors, throttles, tokens metric.Int64Counter
	latency, ttft                       metric.Float64Histogram
}

// NewOTelRecorder creates the instruments on mp's meter "github.com/portico-dev/portico/services/metering".
func NewOTelRecorder(mp metric.MeterProvider) (*OTelRecorder, error) {
	m := mp.Meter("github.com/portico-dev/portico/services/metering")
	var r OTelRecorder
	var err error
	if r.requests, err = m.Int64Counter("portico.inference.requests", metric.WithDescription("Model and endpoint requests."), metric.WithUnit("{request}")); err != nil {
		return nil, fmt.Errorf("metering: instrument: %w", err)
	}
	if r.errors, err = m.Int64Counter("portico.inference.errors", metric.WithDescription("Requests that ended in an error."), metric.WithUnit("{request}")); err != nil {
		return nil, fmt.Errorf("metering: instrument: %w", err)
	}
	if r.throttles, err = m.Int64Counter("portico.inference.upstream_throttles", metric.WithDescription("Requests the provider throttled."), metric.WithUnit("{request}")); err != nil {
		return nil, fmt.Errorf("metering: instrument: %w", err)
	}
	if r.tokens, err = m.Int64Counter("portico.inference.tokens", metric.WithDescription("Tokens used, by direction."), metric.WithUnit("{token}")); err != nil {
		return nil, fmt.Errorf("metering: instrument: %w", err)
	}
	if r.latency, err = m.Float64Histogram("portico.inference.latency", metric.WithDescription("Time from arrival to the last byte."), metric.WithUnit("s")); err != nil {
		return nil, fmt.Errorf("metering: instrument: %w", err)
	}
	if r.ttft, err = m.Float64Histogram("portico.inference.time_to_first_token", metric.WithDescription("Time from arrival to the first generated content."), metric.WithUnit("s")); err != nil {
		return nil, fmt.Errorf("metering: instrument: %w", err)
	}
	return &r, nil
}

// Record implements Recorder.
func (r *OTelRecorder) Record(ctx context.Context, o Observation) {
	model := attribute.String("model", o.ModelID)
	provider := attribute.String("provider", o.Provider)
	outcome := attribute.String("outcome", o.Outcome)
	withOutcome := metric.WithAttributes(model, provider, outcome)
	r.requests.Add(ctx, 1, withOutcome)
	if o.Outcome != "ok" {
		r.errors.Add(ctx, 1, withOutcome)
	}
	if o.UpstreamThrottled {
		r.throttles.Add(ctx, 1, metric.WithAttributes(model, provider))
	}
	if o.InputTokens > 0 {
		r.tokens.Add(ctx, o.InputTokens, metric.WithAttributes(model, provider, attribute.String("direction", "input")))
	}
	if o.OutputTokens > 0 {
		r.tokens.Add(ctx, o.OutputTokens, metric.WithAttributes(model, provider, attribute.String("direction", "output")))
	}
	r.latency.Record(ctx, o.Latency.Seconds(), withOutcome)
	if o.TimeToFirstToken > 0 {
		r.ttft.Record(ctx, o.TimeToFirstToken.Seconds(), metric.WithAttributes(model, provider))
	}
}

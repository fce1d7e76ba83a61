package metering

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"
)

// EMFNamespace is the CloudWatch namespace of the Embedded Metric Format lines.
const EMFNamespace = "Portico"

// EMFRecorder writes each observation as one CloudWatch Embedded Metric Format JSON line
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
// On Lambda, lines written to stdout become metrics without any API call. The metrics are
// Requests, Errors, UpstreamThrottles, InputTokens, OutputTokens, Latency and
// TimeToFirstToken (milliseconds; only when there was a first token), by Model and by
// Model and Outcome, in namespace EMFNamespace.
type EMFRecorder struct {
	mu       sync.Mutex
	w        io.Writer
	function string
	now      func() time.Time
}

// NewEMFRecorder returns a recorder writing to w; function is recorded as the FunctionName
// property (not a dimension).
func NewEMFRecorder(w io.Writer, function string) *EMFRecorder {
	return &EMFRecorder{w: w, function: function, now: time.Now}
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// Record implements Recorder. Write errors are ignored: metrics never fail a request.
func (r *EMFRecorder) Record(_ context.Context, o Observation) {
	metrics := []emfMetric{
		{"Requests", "Count"}, {"Errors", "Count"}, {"UpstreamThrottles", "Count"},
		{"InputTokens", "Count"}, {"OutputTokens", "Count"}, {"Latency", "Milliseconds"},
	}
	line := map[string]any{
		"Model":             o.ModelID,
		"Provider":          o.Provider,
		"Outcome":           o.Outcome,
		"Requests":          1,
		"Errors":            b2i(o.Outcome != "ok"),
		"UpstreamThrottles": b2i(o.UpstreamThrottled),
		"InputTokens":       o.InputTokens,
		"OutputTokens":      o.OutputTokens,
		"Latency":           float64(o.Latency.Microseconds()) / 1000,
	}
	if o.TimeToFirstToken > 0 {
		metrics = append(metrics, emfMetric{"TimeToFirstToken", "Milliseconds"})
		line["TimeToFirstToken"] = float64(o.TimeToFirstToken.Microseconds()) / 1000
	}
	if r.function != "" {
		line["FunctionName"] = r.function
	}
	line["_aws"] = emfMeta{
		Timestamp: r.now().UnixMilli(),
		CloudWatchMetrics: []emfDirective{{
			Namespace:  EMFNamespace,
			Dimensions: [][]string{{"Model"}, {"Model", "Outcome"}},
			Metrics:    metrics,
		}},
	}
	b, err := json.Marshal(line)
	if err != nil {
		return
	}
	b = append(b, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.w.Write(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

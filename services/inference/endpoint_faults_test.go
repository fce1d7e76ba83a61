package inference_test

import (
	"context"
	"testing"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// TestEndpointFaults injects the local endpoint's faults into SageMaker invocations, unary
// and streamed, and expects an exact code and a settled audit record with that outcome.
func TestEndpointFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	t.Cleanup(func() { h.checkLedger("alice", h.limitsOf("MLUsers")) })
	tests := []struct {
		name, marker string
		code         connect.Code
		streamOnly   bool
	}{
		{name: "throttle", marker: "[[fault:throttle]]", code: connect.CodeResourceExhausted},
		{name: "validation", marker: "[[fault:validation]]", code: connect.CodeInvalidArgument},
		{name: "not ready", marker: "[[fault:notready]]", code: connect.CodeUnavailable},
		{name: "internal", marker: "[[fault:internal]]", code: connect.CodeInternal},
		{name: "unavailable", marker: "[[fault:unavailable]]", code: connect.CodeUnavailable},
		{name: "cut mid-stream", marker: "[[fault:cut:3]]", code: connect.CodeUnavailable, streamOnly: true},
		{name: "stream error", marker: "[[fault:streamerror:3]]", code: connect.CodeUnavailable, streamOnly: true},
		{name: "slow first byte", marker: "[[fault:slow:100]]"},
	}
	for _, tt := range tests {
		for _, streamed := range []bool{false, true} {
			if tt.streamOnly && !streamed {
				continue
			}
			name := tt.name + "/unary"
			if streamed {
				name = tt.name + "/stream"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				body := []byte(`{"inputs": "endpoint faults ` + tt.marker + `", "parameters": {"max_new_tokens": 100}}`)
				c := h.client("alice")
				var id string
				var err error
				if streamed {
					s, serr := c.InvokeEndpointStream(context.Background(), &inferencev1.InvokeEndpointStreamRequest{EndpointName: demo, Body: body})
					if serr != nil {
						t.Fatal(serr)
					}
					var last *inferencev1.InvokeEndpointStreamResponse
					for s.Receive() {
						if st := s.Msg().GetStart(); st != nil {
							id = st.GetRequestId()
						}
						last = s.Msg()
					}
					err = s.Err()
					if err == nil && last.GetMetadata() == nil {
						t.Errorf("a successful stream ended with %v", last)
					}
				} else {
					var res *inferencev1.InvokeEndpointResponse
					res, err = c.InvokeEndpoint(context.Background(), &inferencev1.InvokeEndpointRequest{EndpointName: demo, Body: body})
					id = res.GetRequestId()
				}
				if connect.CodeOf(err) != tt.code && (tt.code != 0 || err != nil) {
					t.Fatalf("err = %v, want %v", err, tt.code)
				}
				if err != nil {
					id = requestID(err)
				}
				want := "ok"
				if tt.code != 0 {
					want = tt.code.String()
				}
				if r := h.record("alice", id); r.Outcome != want || r.ModelID != demo {
					t.Errorf("record = %+v, want outcome %s", r, want)
				}
			})
		}
	}
}

package sagemaker_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/sagemaker"
)

type collect struct {
	start *inferencev1.EndpointStreamStart
	parts int
	body  bytes.Buffer
}

func (c *collect) send(ev *inferencev1.InvokeEndpointStreamResponse) error {
	switch e := ev.Event.(type) {
	case *inferencev1.InvokeEndpointStreamResponse_Start:
		c.start = e.Start
	case *inferencev1.InvokeEndpointStreamResponse_Part:
		c.parts++
		c.body.Write(e.Part.GetBytes())
	}
	return nil
}

func TestInvokeStream(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{TokensPerSecond: 2000})
	var c collect
	req := streamOf(jsonReq("stream it"))
	res, err := f.client.InvokeStream(context.Background(), req, demoLimits, c.send)
	if err != nil {
		t.Fatal(err)
	}
	if c.start.GetContentType() != "application/jsonlines" || c.start.GetInvokedProductionVariant() != "AllTraffic" {
		t.Errorf("start = %v", c.start)
	}
	// 12 token lines, then the details line with generated_tokens.
	if c.parts != 13 || !bytes.Equal(res.Body, c.body.Bytes()) || !strings.Contains(c.body.String(), `"generated_tokens":12`) {
		t.Errorf("%d parts: %s", c.parts, c.body.String())
	}
	if res.Usage.OutputTokens != 12 || res.Usage.InputTokens != sagemaker.EstimateTokens(len(req.Body)) || !res.Usage.Estimated {
		t.Errorf("usage = %+v", res.Usage)
	}
	if res.FirstByteAt.IsZero() || res.UpstreamRequestID == "" {
		t.Errorf("result = %+v", res)
	}
}

func TestInvokeStreamFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		code  connect.Code
		parts int
	}{
		{"cut mid-way", "[[fault:cut:3]] go", connect.CodeUnavailable, 3},
		{"model stream error", "[[fault:streamerror:2]] go", connect.CodeUnavailable, 2},
		{"model not ready", "[[fault:notready]] go", connect.CodeUnavailable, 0},
		{"model error", "[[fault:modelerror]] go", connect.CodeInternal, 0},
		{"slow first token", "[[fault:slow:30]] go", 0, 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, localaws.Config{})
			var c collect
			res, err := f.client.InvokeStream(context.Background(), streamOf(jsonReq(tt.input)), demoLimits, c.send)
			if connect.CodeOf(err) != tt.code && (tt.code != 0 || err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.code)
			}
			if c.parts != tt.parts {
				t.Errorf("parts = %d, want %d", c.parts, tt.parts)
			}
			if tt.parts > 0 && tt.code != 0 && (!res.Usage.Estimated || res.Usage.OutputTokens != sagemaker.EstimateTokens(c.body.Len())) {
				t.Errorf("usage so far = %+v for %d bytes", res.Usage, c.body.Len())
			}
		})
	}
}

// TestInvokeStreamCancel cancels mid-stream: the call returns CANCELED with the usage so
// far, and the server sees the client go and stops generating.
func TestInvokeStreamCancel(t *testing.T) {
	t.Parallel()
	ends := make(chan localaws.StreamEnd, 1)
	f := newFixture(t, localaws.Config{TokensPerSecond: 200, OnStreamEnd: func(e localaws.StreamEnd) { ends <- e }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := streamOf(jsonReq("a long one"))
	req.Body = []byte(`{"inputs":"a long one"}`)
	parts := 0
	res, err := f.client.InvokeStream(ctx, req, demoLimits, func(ev *inferencev1.InvokeEndpointStreamResponse) error {
		if ev.GetPart() != nil {
			parts++
			if parts == 2 {
				cancel()
			}
		}
		return nil
	})
	if connect.CodeOf(err) != connect.CodeCanceled {
		t.Fatalf("err = %v", err)
	}
	if res.Usage.OutputTokens == 0 || !res.Usage.Estimated {
		t.Errorf("usage so far = %+v", res.Usage)
	}
	end := <-ends
	if !end.ClientGone || end.Tokens >= len(strings.Fields(localaws.AnswerFor("a long one"))) {
		t.Errorf("server: %+v", end)
	}
}

func TestInvokeStreamSendError(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{TokensPerSecond: 200})
	errGone := errors.New("gone")
	_, err := f.client.InvokeStream(context.Background(), streamOf(jsonReq("x")), demoLimits, func(ev *inferencev1.InvokeEndpointStreamResponse) error {
		if ev.GetPart() != nil {
			return errGone
		}
		return nil
	})
	if !errors.Is(err, errGone) {
		t.Errorf("err = %v", err)
	}
}

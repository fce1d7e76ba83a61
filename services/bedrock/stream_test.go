package bedrock_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/dev/localaws"
)

// collect is a SendFunc recording events as "start", "delta" and "stop:<reason>".
type collect struct {
	kinds []string
	text  strings.Builder
}

func (c *collect) send(ev *inferencev1.ConverseStreamResponse) error {
	switch e := ev.Event.(type) {
	case *inferencev1.ConverseStreamResponse_Start:
		c.kinds = append(c.kinds, "start:"+e.Start.GetModelId())
	case *inferencev1.ConverseStreamResponse_Delta:
		c.kinds = append(c.kinds, "delta")
		c.text.WriteString(e.Delta.GetText())
	case *inferencev1.ConverseStreamResponse_Stop:
		c.kinds = append(c.kinds, "stop:"+e.Stop.GetStopReason().String())
	default:
		c.kinds = append(c.kinds, "unexpected")
	}
	return nil
}

func TestConverseStream(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{})
	req := ask(haiku, "stream this please")
	whole, err := f.client.Converse(context.Background(), req, bedrock.Call{Limits: haikuLimits})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	res, err := f.client.ConverseStream(context.Background(), streamReq(req), bedrock.Call{Limits: haikuLimits}, c.send)
	if err != nil {
		t.Fatal(err)
	}
	n := len(c.kinds)
	if n < 3 || c.kinds[0] != "start:"+haiku || c.kinds[n-1] != "stop:STOP_REASON_END_TURN" {
		t.Errorf("events = %v", c.kinds)
	}
	if c.text.String() != text(whole.Output) || text(res.Output) != c.text.String() {
		t.Errorf("streamed text differs from the unary answer")
	}
	if res.Usage != whole.Usage || res.Usage.Estimated || res.Usage.OutputTokens != int64(n-2) {
		t.Errorf("usage %+v, unary %+v, deltas %d", res.Usage, whole.Usage, n-2)
	}
	if res.FirstTokenAt.IsZero() || res.UpstreamRequestID == "" || res.StopReason != inferencev1.StopReason_STOP_REASON_END_TURN {
		t.Errorf("result = %+v", res)
	}
}

// TestConverseStreamFaults covers the faults that strike a stream.
func TestConverseStreamFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		prompt     string
		code       connect.Code
		wantDeltas int // -1: any
		estimated  bool
	}{
		// messageStart, then 2 deltas, then the connection closes.
		{"cut mid-way", "[[fault:cut:3]]", connect.CodeUnavailable, 2, true},
		// messageStart, 3 deltas, then a modelStreamErrorException.
		{"model stream error", "[[fault:streamerror:4]]", connect.CodeUnavailable, 3, true},
		{"throttle before the stream", "[[fault:throttle]]", connect.CodeResourceExhausted, 0, false},
		{"not ready", "[[fault:notready]]", connect.CodeUnavailable, 0, false},
		{"model error", "[[fault:modelerror]]", connect.CodeInternal, 0, false},
		{"slow first token", "[[fault:slow:30]]", 0, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, localaws.Config{})
			var c collect
			res, err := f.client.ConverseStream(context.Background(), streamReq(ask(haiku, tt.prompt+" tell me more")), bedrock.Call{Limits: haikuLimits}, c.send)
			if connect.CodeOf(err) != tt.code && (tt.code != 0 || err != nil) {
				t.Fatalf("err = %v, want code %v", err, tt.code)
			}
			deltas := strings.Count(strings.Join(c.kinds, ","), "delta")
			if tt.wantDeltas >= 0 && deltas != tt.wantDeltas {
				t.Errorf("deltas = %d, want %d (%v)", deltas, tt.wantDeltas, c.kinds)
			}
			if res.Usage.Estimated != tt.estimated {
				t.Errorf("usage %+v, estimated want %v", res.Usage, tt.estimated)
			}
			if tt.estimated && (res.Usage.OutputTokens < int64(deltas) || res.Usage.InputTokens <= 0 || res.Usage.TotalTokens != res.Usage.InputTokens+res.Usage.OutputTokens) {
				t.Errorf("estimated usage %+v for %d deltas", res.Usage, deltas)
			}
			if tt.estimated && text(res.Output) != c.text.String() {
				t.Errorf("partial output %q, streamed %q", text(res.Output), c.text.String())
			}
		})
	}
}

// TestConverseStreamCancel cancels the caller's context mid-stream and checks that the call
// returns at once with CANCELED and the usage so far, and that the server saw the client go
// and stopped generating.
func TestConverseStreamCancel(t *testing.T) {
	t.Parallel()
	ends := make(chan localaws.StreamEnd, 1)
	f := newFixture(t, localaws.Config{TokensPerSecond: 200, OnStreamEnd: func(e localaws.StreamEnd) { ends <- e }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prompt := "write a long answer"
	deltas := 0
	res, err := f.client.ConverseStream(ctx, streamReq(ask(haiku, prompt)), bedrock.Call{Limits: haikuLimits}, func(ev *inferencev1.ConverseStreamResponse) error {
		if ev.GetDelta() != nil {
			deltas++
			if deltas == 3 {
				cancel()
			}
		}
		return nil
	})
	if connect.CodeOf(err) != connect.CodeCanceled {
		t.Fatalf("err = %v, want CANCELED", err)
	}
	if !res.Usage.Estimated || res.Usage.OutputTokens < 3 || res.Usage.InputTokens == 0 {
		t.Errorf("usage so far = %+v", res.Usage)
	}
	end := <-ends
	total := len(strings.Fields(localaws.AnswerFor(prompt)))
	if !end.ClientGone || end.Tokens >= total {
		t.Errorf("server: %+v, answer has %d tokens", end, total)
	}
}

// TestConverseStreamSendError ends the stream when the caller cannot forward an event.
func TestConverseStreamSendError(t *testing.T) {
	t.Parallel()
	ends := make(chan localaws.StreamEnd, 1)
	f := newFixture(t, localaws.Config{TokensPerSecond: 200, OnStreamEnd: func(e localaws.StreamEnd) { ends <- e }})
	errGone := errors.New("client went away")
	deltas := 0
	res, err := f.client.ConverseStream(context.Background(), streamReq(ask(haiku, "another long answer")), bedrock.Call{Limits: haikuLimits}, func(ev *inferencev1.ConverseStreamResponse) error {
		if ev.GetDelta() != nil {
			deltas++
			if deltas == 2 {
				return errGone
			}
		}
		return nil
	})
	if !errors.Is(err, errGone) {
		for e := err; e != nil; e = errors.Unwrap(e) {
			t.Logf("%T %v", e, e)
		}
		t.Fatalf("err = %v, want the send error", err)
	}
	if !res.Usage.Estimated || res.Usage.OutputTokens < 2 {
		t.Errorf("usage = %+v", res.Usage)
	}
	if end := <-ends; !end.ClientGone {
		t.Errorf("server did not see the disconnect: %+v", end)
	}
}

// TestConverseStreamPaced streams a whole paced answer: the stream must not be cut by the
// request-body race awsrt.GuardHTTPClient works around.
func TestConverseStreamPaced(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{TokensPerSecond: 1000})
	for i := range 5 {
		var c collect
		res, err := f.client.ConverseStream(context.Background(), streamReq(ask(haiku, "paced answer")), bedrock.Call{Limits: haikuLimits}, c.send)
		if err != nil || res.Usage.Estimated {
			t.Fatalf("run %d: err %v, usage %+v", i, err, res.Usage)
		}
	}
}

// TestConverseStreamConcurrent runs streams side by side on one Client: each must get its own
// answer intact (the SDK's shared event-stream decoder would mix them up; see ownCodec).
func TestConverseStreamConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, localaws.Config{TokensPerSecond: 2000})
	const n = 6
	errs := make(chan error, n)
	for i := range n {
		go func() {
			prompt := fmt.Sprintf("concurrent stream number %d", i)
			var c collect
			res, err := f.client.ConverseStream(context.Background(), streamReq(ask(haiku, prompt)), bedrock.Call{Limits: haikuLimits}, c.send)
			switch {
			case err != nil:
				errs <- err
			case c.text.String()+"\n" != localaws.AnswerFor(prompt) || res.Usage.Estimated:
				errs <- fmt.Errorf("stream %d: got %q", i, c.text.String())
			default:
				errs <- nil
			}
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

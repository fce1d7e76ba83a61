package localaws_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"

	"github.com/portico-dev/portico/services/dev/localaws"
)

func TestFaultControlEndpoint(t *testing.T) {
	t.Parallel()
	s := localaws.New(localaws.Config{})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c := bedrockruntime.NewFromConfig(awsConfig(ts.URL, "portico-dev", "portico-dev-secret"))
	post := func(body string) int {
		resp, err := http.Post(ts.URL+"/_portico/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	converse := func(model string) string {
		_, err := c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(model), Messages: userText("hi")})
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return "ok"
	}
	for _, bad := range []string{`{"target":"*","fault":"explode"}`, `{"fault":"throttle"}`, `{"target":"*","fault":"throttle","count":-1}`, `{"target":"*","fault":"throttle","extra":1}`, `not json`} {
		if got := post(bad); got != http.StatusBadRequest {
			t.Errorf("POST %s = %d, want 400", bad, got)
		}
	}
	if got := post(`{"target":"` + haiku + `","fault":"throttle","count":2}`); got != http.StatusNoContent {
		t.Fatalf("POST fault = %d", got)
	}
	var got []string
	for _, m := range []string{nova, haiku, haiku, haiku} {
		got = append(got, converse(m))
	}
	if want := "ok,ThrottlingException,ThrottlingException,ok"; strings.Join(got, ",") != want {
		t.Errorf("answers = %v, want %s", got, want)
	}
	if post(`{"target":"*","fault":"notready"}`) != http.StatusNoContent {
		t.Fatal("POST failed")
	}
	if a, b := converse(nova), converse(haiku); a != "ModelNotReadyException" || b != a {
		t.Errorf("unlimited fault: %s, %s", a, b)
	}
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/_portico/faults", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := converse(nova); got != "ok" {
		t.Errorf("after DELETE: %s", got)
	}
	resp, err = http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Errorf("healthz = %d %q", resp.StatusCode, b)
	}
}

// TestStreamClientGoneStopsGeneration closes the SDK stream after two deltas and checks that
// the server noticed and stopped generating.
func TestStreamClientGoneStopsGeneration(t *testing.T) {
	t.Parallel()
	ends := make(chan localaws.StreamEnd, 1)
	s, cfg := newServer(t, localaws.Config{TokensPerSecond: 200, OnStreamEnd: func(e localaws.StreamEnd) { ends <- e }})
	c := bedrockruntime.NewFromConfig(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	prompt := "a long answer please"
	out, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(haiku), Messages: userText(prompt)})
	if err != nil {
		t.Fatal(err)
	}
	deltas := 0
	for ev := range out.GetStream().Events() {
		if _, ok := ev.(*brtypes.ConverseStreamOutputMemberContentBlockDelta); ok {
			deltas++
			if deltas == 2 {
				cancel()
				out.GetStream().Close()
				break
			}
		}
	}
	e := <-ends
	if !e.ClientGone {
		t.Errorf("server did not see the client go: %+v", e)
	}
	total := len(strings.Fields(localaws.AnswerFor(prompt)))
	if e.Tokens >= total || s.Stats().StreamsClientGone.Load() != 1 {
		t.Errorf("server generated %d of %d tokens; client-gone streams = %d", e.Tokens, total, s.Stats().StreamsClientGone.Load())
	}
}

func TestMarkerFaultsOnStream(t *testing.T) {
	t.Parallel()
	_, cfg := newServer(t, localaws.Config{})
	tests := []struct {
		prompt     string
		wantEvents int
		wantErr    string
	}{
		// The SDK's decoder treats a cut connection as the end of the stream: the only sign
		// of the cut is the missing metadata.
		{"[[fault:cut:3]] hello", 3, ""},
		{"[[fault:streamerror:4]] hello", 4, "ModelStreamErrorException"},
		{"[[fault:slow:20]] hello", -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			t.Parallel()
			// One client per stream: the SDK's client shares one event-stream decoder
			// between its streams.
			c := bedrockruntime.NewFromConfig(cfg)
			out, err := c.ConverseStream(context.Background(), &bedrockruntime.ConverseStreamInput{ModelId: aws.String(haiku), Messages: userText(tt.prompt)})
			if err != nil {
				t.Fatal(err)
			}
			n, metadata := 0, false
			for ev := range out.GetStream().Events() {
				n++
				_, isMeta := ev.(*brtypes.ConverseStreamOutputMemberMetadata)
				metadata = metadata || isMeta
			}
			err = out.GetStream().Err()
			if tt.wantErr == "" {
				if err != nil || metadata != (tt.wantEvents < 0) || (tt.wantEvents >= 0 && n != tt.wantEvents) {
					t.Fatalf("got %d events, err = %v, metadata = %v", n, err, metadata)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || metadata || n != tt.wantEvents {
				t.Errorf("got %d events, metadata %v, err %v; want %d events and %s", n, metadata, err, tt.wantEvents, tt.wantErr)
			}
		})
	}
}

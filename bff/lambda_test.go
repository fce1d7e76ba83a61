package bff_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
)

// TestOnLambdaFunctionURL runs the same BFF handler as a Lambda function behind a Function
// URL in RESPONSE_STREAM mode (through services/platform/lambdahttp and a local Runtime API): sign-in,
// a proxied call and a stream that arrives chunk by chunk.
func TestOnLambdaFunctionURL(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	rt := runtimeapitest.New()
	t.Cleanup(rt.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- lambdahttp.Serve(ctx, lambdahttp.Config{RuntimeAPI: rt.Addr(), Event: lambdahttp.Event(runtimeapitest.FunctionURL)}, s.bff.Config.Handler)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("lambdahttp.Serve: %v", err)
		}
	})
	b := s.browser()
	b.client.Transport = &runtimeapitest.Transport{Server: rt}

	if cb := b.signIn("dana", "/admin"); cb.StatusCode != http.StatusSeeOther || cb.Header.Get("Location") != "/admin" {
		t.Fatalf("callback through Lambda: %s %q", cb.Status, cb.Header.Get("Location"))
	}
	resp, body := b.call(http.MethodPost, getMe, "{}", true)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"username":"dana"`) {
		t.Fatalf("GetMe through Lambda: %s %s", resp.Status, body)
	}
	h := s.up.calls()[0]
	if h.Get("Cookie") != "" || claim(h.Get("Authorization"), "token_use") != "access" || h.Get("Portico-Client-Ip") != "198.51.100.7" {
		t.Fatalf("upstream saw Cookie %q, Authorization use %q, client IP %q", h.Get("Cookie"), claim(h.Get("Authorization"), "token_use"), h.Get("Portico-Client-Ip"))
	}

	req := b.request(context.Background(), http.MethodPost, "/api/portico.inference.v1.InferenceService/ConverseStream", strings.NewReader("{}"), true)
	req.Header.Set("Content-Type", "application/connect+json")
	stream := b.do(req)
	defer func() { _ = stream.Body.Close() }()
	r := bufio.NewReader(stream.Body)
	if first, err := r.ReadString(';'); err != nil || first != "chunk-1;" {
		t.Fatalf("first chunk through Lambda = %q, %v", first, err)
	}
	close(s.up.release)
	if rest, err := io.ReadAll(r); err != nil || string(rest) != "chunk-2;" {
		t.Fatalf("rest through Lambda = %q, %v", rest, err)
	}
}

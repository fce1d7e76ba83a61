package openaicompat_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	apikeyv1 "github.com/portico-dev/portico/gen/go/portico/apikey/v1"
	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/store"
)

type openAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func do(t *testing.T, method, url, auth, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

const chatBody = `{"model":"amazon.nova-lite-v1:0","messages":[{"role":"user","content":"hi"}],"max_tokens":10`

// TestAttacks is the attack table of the endpoint and of API keys on the services: each
// request expects a precise refusal (status, and the parameter named where there is one).
func TestAttacks(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, secret := s.newKey(t, "alice", &apikeyv1.CreateApiKeyRequest{ModelIds: []string{"anthropic.claude-3-5-haiku-20241022-v1:0", novaLite}})
	revokedKey, revoked := s.newKey(t, "alice", &apikeyv1.CreateApiKeyRequest{})
	if _, err := s.keyClient().RevokeApiKey(as(t.Context(), tokenFor(t, "alice")), &apikeyv1.RevokeApiKeyRequest{Id: revokedKey.GetId()}); err != nil {
		t.Fatal(err)
	}
	_, limitedSecret := s.newKey(t, "alice", &apikeyv1.CreateApiKeyRequest{ModelIds: []string{"anthropic.claude-3-5-haiku-20241022-v1:0"}})
	unknown, _ := apikey.NewSecret(nil)
	idToken := idp(t).SignIn(t, "alice", "n").IDToken
	key := "Bearer " + secret
	chat := s.url + "/v1/chat/completions"
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nnot really"))
	tests := []struct {
		name, method, url, auth, body string
		status                        int
		param                         string // the error's param, when it names one
	}{
		{"no credentials", "POST", chat, "", chatBody + "}", 401, ""},
		{"basic scheme", "POST", chat, "Basic " + base64.StdEncoding.EncodeToString([]byte("a:"+secret)), chatBody + "}", 401, ""},
		{"unknown key", "POST", chat, "Bearer " + unknown, chatBody + "}", 401, ""},
		{"tampered key", "POST", chat, "Bearer " + tampered(secret), chatBody + "}", 401, ""},
		{"revoked key", "POST", chat, "Bearer " + revoked, chatBody + "}", 401, ""},
		{"key hash as the key", "POST", chat, "Bearer " + apikey.Hash(secret), chatBody + "}", 401, ""},
		{"an ID token", "POST", chat, "Bearer " + idToken, chatBody + "}", 401, ""},
		{"model outside the key's models", "POST", chat, "Bearer " + limitedSecret, chatBody + "}", 404, "model"},
		{"model the owner may not use", "POST", chat, key, `{"model":"us.anthropic.claude-sonnet-4-20250514-v1:0","messages":[{"role":"user","content":"hi"}]}`, 404, "model"},
		{"unknown model", "POST", chat, key, `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`, 404, "model"},
		{"SageMaker endpoint as a model", "GET", s.url + "/v1/models/portico-demo-llm", key, "", 404, "model"},
		{"unknown parameter", "POST", chat, key, chatBody + `,"temprature":1}`, 400, "temprature"},
		{"unknown message field", "POST", chat, key, `{"model":"amazon.nova-lite-v1:0","messages":[{"role":"user","content":"hi","cache":1}]}`, 400, "cache"},
		{"tools", "POST", chat, key, chatBody + `,"tools":[{"type":"function","function":{"name":"f"}}]}`, 400, "tools"},
		{"tool_choice", "POST", chat, key, chatBody + `,"tool_choice":"auto"}`, 400, "tool_choice"},
		{"n > 1", "POST", chat, key, chatBody + `,"n":2}`, 400, "n"},
		{"logprobs", "POST", chat, key, chatBody + `,"logprobs":true}`, 400, "logprobs"},
		{"response_format json", "POST", chat, key, chatBody + `,"response_format":{"type":"json_object"}}`, 400, "response_format"},
		{"seed", "POST", chat, key, chatBody + `,"seed":7}`, 400, "seed"},
		{"presence_penalty", "POST", chat, key, chatBody + `,"presence_penalty":0.5}`, 400, "presence_penalty"},
		{"tool role", "POST", chat, key, `{"model":"amazon.nova-lite-v1:0","messages":[{"role":"tool","content":"x","tool_call_id":"1"}]}`, 400, "messages[0].tool_call_id"},
		{"assistant tool_calls", "POST", chat, key, `{"model":"amazon.nova-lite-v1:0","messages":[{"role":"assistant","content":null,"tool_calls":[]}]}`, 400, "messages[0].tool_calls"},
		{"unknown role", "POST", chat, key, `{"model":"amazon.nova-lite-v1:0","messages":[{"role":"root","content":"x"}]}`, 400, "messages[0].role"},
		{"image by URL", "POST", chat, key, `{"model":"amazon.nova-lite-v1:0","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://169.254.169.254/latest/meta-data"}}]}]}`, 400, "messages[0].content[0].image_url.url"},
		{"image in a system message", "POST", chat, key, `{"model":"amazon.nova-lite-v1:0","messages":[{"role":"system","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,` + png + `"}}]},{"role":"user","content":"hi"}]}`, 400, "messages[0].content[0]"},
		{"image of an unknown type", "POST", chat, key, `{"model":"amazon.nova-lite-v1:0","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/svg+xml;base64,PHN2Zz4="}}]}]}`, 400, "messages[0].content[0].image_url.url"},
		{"audio part", "POST", chat, key, `{"model":"amazon.nova-lite-v1:0","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}`, 400, "messages[0].content[0].input_audio"},
		{"no messages", "POST", chat, key, `{"model":"amazon.nova-lite-v1:0","messages":[]}`, 400, "messages"},
		{"no model", "POST", chat, key, `{"messages":[{"role":"user","content":"hi"}]}`, 400, "model"},
		{"max_tokens disagreeing", "POST", chat, key, chatBody + `,"max_completion_tokens":11}`, 400, "max_tokens"},
		{"negative max_tokens", "POST", chat, key, `{"model":"amazon.nova-lite-v1:0","messages":[{"role":"user","content":"hi"}],"max_tokens":-1}`, 400, "max_completion_tokens"},
		{"temperature out of range", "POST", chat, key, chatBody + `,"temperature":3}`, 400, "temperature"},
		{"five stop sequences", "POST", chat, key, chatBody + `,"stop":["a","b","c","d","e"]}`, 400, "stop"},
		{"stream_options without stream", "POST", chat, key, chatBody + `,"stream_options":{"include_usage":true}}`, 400, "stream_options"},
		{"two JSON values", "POST", chat, key, chatBody + `}{}`, 400, ""},
		{"not JSON", "POST", chat, key, `model=x`, 400, ""},
		{"wrong type", "POST", chat, key, `{"model":7,"messages":[]}`, 400, "model"},
		{"GET chat", "GET", chat, key, "", 405, ""},
		{"POST models", "POST", s.url + "/v1/models", key, "{}", 405, ""},
		{"other OpenAI API", "POST", s.url + "/v1/embeddings", key, "{}", 404, ""},
		{"body too large", "POST", chat, key, `{"model":"` + strings.Repeat("x", 13<<20) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := do(t, tt.method, tt.url, tt.auth, tt.body)
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", res.StatusCode, tt.status, body)
			}
			var e openAIError
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Message == "" || e.Error.Type == "" {
				t.Fatalf("body %q is not OpenAI's error shape", body)
			}
			if tt.param != "" && (e.Error.Param == nil || *e.Error.Param != tt.param) {
				t.Errorf("param = %v, want %q (%s)", e.Error.Param, tt.param, e.Error.Message)
			}
			if strings.Contains(body, secret) || strings.Contains(body, "portico_sk_") {
				t.Errorf("the answer echoes a key: %s", body)
			}
		})
	}
	// Ignorable parameters are accepted.
	res, body := do(t, "POST", chat, key, chatBody+`,"user":"u-1","metadata":{"a":"b"},"store":false,"n":1,"logprobs":false,"presence_penalty":0,"parallel_tool_calls":true,"response_format":{"type":"text"},"messages":[{"role":"developer","content":"be brief"},{"role":"user","name":"al","content":[{"type":"text","text":"hi"}]},{"role":"assistant","content":"hello","refusal":null},{"role":"user","content":"again"}]}`)
	if res.StatusCode != http.StatusOK {
		t.Errorf("ignorable parameters: %d %s", res.StatusCode, body)
	}
}

// TestKeysOnlyForInference: a key answers 403 on every Connect service but inference, and
// reads its owner's usage only.
func TestKeysOnlyForInference(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, secret := s.newKey(t, "alice", &apikeyv1.CreateApiKeyRequest{})
	for _, path := range []string{
		"/portico.apikey.v1.ApiKeyService/CreateApiKey",
		"/portico.apikey.v1.ApiKeyService/ListAllApiKeys",
		"/portico.conversation.v1.ConversationService/ListConversations",
		"/portico.admin.v1.AdminService/ListUsage",
		"/portico.identity.v1.IdentityService/GetMe",
	} {
		res, body := do(t, "POST", s.url+path, "Bearer "+secret, "{}")
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s with a key: %d %s; want 403", path, res.StatusCode, body)
		}
	}
	// Nor through inference: a key may not continue (or read back) a kept conversation.
	kept := `{"modelId":"amazon.nova-lite-v1:0","messages":[{"role":"ROLE_USER","content":[{"text":"hi"}]}],"conversation":{}}`
	if res, body := do(t, "POST", s.url+"/portico.inference.v1.InferenceService/Converse", "Bearer "+secret, kept); res.StatusCode != http.StatusForbidden {
		t.Errorf("a kept conversation with a key: %d %s; want 403", res.StatusCode, body)
	}
	res, body := do(t, "POST", s.url+"/portico.inference.v1.InferenceService/GetUsage", "Bearer "+secret, "{}")
	if res.StatusCode != http.StatusOK {
		t.Errorf("GetUsage with a key: %d %s", res.StatusCode, body)
	}
}

// TestCancelStopsSpend: a client that goes away mid-stream stops the model call, and what
// was used until then is settled and audited under the key's owner.
func TestCancelStopsSpend(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{tokensPerSecond: 200})
	key, secret := s.newKey(t, "alice", &apikeyv1.CreateApiKeyRequest{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", s.url+"/v1/chat/completions",
		strings.NewReader(`{"model":"amazon.nova-lite-v1:0","stream":true,"max_tokens":2000,"messages":[{"role":"user","content":"write a long story"}]}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	content := 0
	for sc.Scan() && content < 2 {
		if strings.Contains(sc.Text(), `"content":"`) && !strings.Contains(sc.Text(), `"content":""`) {
			content++
		}
	}
	cancel()
	_ = res.Body.Close()
	select {
	case end := <-s.ended:
		if !end.ClientGone || end.Tokens >= 2000 {
			t.Errorf("upstream stream ended %+v; want stopped by the client's cancel", end)
		}
	case <-time.After(time.Minute):
		t.Fatal("the upstream stream never ended")
	}
	var recs []store.Record
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if recs = s.records(t, "alice"); len(recs) == 1 {
			break
		}
	}
	if len(recs) != 1 || recs[0].Outcome != "canceled" || recs[0].OutputTokens == 0 || recs[0].APIKey != key.GetPrefix() {
		t.Errorf("records = %+v; want one canceled record with the tokens used", recs)
	}
}

// TestStreamedRefusalBeforeStart: a request refused before the stream begins is an ordinary
// error answer, which the official client reports with its status.
func TestStreamedRefusalBeforeStart(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, secret := s.newKey(t, "alice", &apikeyv1.CreateApiKeyRequest{})
	c := client(s, secret)
	p := chatParams("amazon.titan-text-express-v1")
	p.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage("")}
	stream := c.Chat.Completions.NewStreaming(t.Context(), p)
	var apiErr *openai.Error
	if stream.Next() || !errors.As(stream.Err(), &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		t.Errorf("an empty message, streamed: %v; want the client's 400", stream.Err())
	}
}

// tampered returns secret with its last character changed.
func tampered(secret string) string {
	last := secret[len(secret)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return secret[:len(secret)-1] + string(repl)
}

// TestProviderFaults: the provider's throttling is the client's 429 (rate_limit_exceeded,
// Retry-After), its unavailability 503, and a stream failing after its first chunk ends
// with an error event and no [DONE], which the official client reports.
func TestProviderFaults(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{})
	_, secret := s.newKey(t, "alice", &apikeyv1.CreateApiKeyRequest{})
	c := client(s, secret)
	ask := func(prompt string) openai.ChatCompletionNewParams {
		p := chatParams(novaLite)
		p.Messages = []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)}
		return p
	}
	var apiErr *openai.Error
	_, err := c.Chat.Completions.New(t.Context(), ask("[[fault:throttle]]"))
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || apiErr.Code != "rate_limit_exceeded" ||
		apiErr.Response.Header.Get("Retry-After") == "" {
		t.Errorf("throttled: %v %s", err, apiErr.RawJSON())
	}
	if _, err := c.Chat.Completions.New(t.Context(), ask("[[fault:unavailable]]")); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("unavailable: %v", err)
	}
	stream := c.Chat.Completions.NewStreaming(t.Context(), ask("[[fault:streamerror:4]]"))
	chunks := 0
	for stream.Next() {
		chunks++
	}
	if chunks == 0 || stream.Err() == nil || !strings.Contains(stream.Err().Error(), "error") {
		t.Errorf("stream failing after %d chunks: err = %v; want an error event", chunks, stream.Err())
	}
	recs := s.records(t, "alice")
	if len(recs) != 3 {
		t.Fatalf("records = %d, want 3", len(recs))
	}
	for _, r := range recs {
		if r.Outcome == "ok" {
			t.Errorf("a failed call audited as ok: %+v", r)
		}
	}
}

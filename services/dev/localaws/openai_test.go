package localaws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"github.com/portico-dev/portico/services/dev/localaws"
)

// fakeOpenAI is an OpenAI-compatible chat completions server that streams "Hello from
// upstream" and reports usage, recording the last request body.
func fakeOpenAI(t *testing.T, got chan<- map[string]any) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		got <- body
		w.Header().Set("Content-Type", "text/event-stream")
		for _, piece := range []string{"Hello", " from", " upstream"} {
			fmt.Fprintf(w, "data: {\"choices\":[{\"delta\":{\"content\":%q},\"finish_reason\":null}]}\n\n", piece)
		}
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"length\"}]}\n\n")
		fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":11,\"completion_tokens\":3,\"total_tokens\":14}}\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestOpenAIForward(t *testing.T) {
	t.Parallel()
	reqs := make(chan map[string]any, 2)
	up := fakeOpenAI(t, reqs)
	_, cfg := newServer(t, localaws.Config{OpenAIURL: up.URL + "/v1/chat/completions", OpenAIModel: "llama3.2"})
	c := bedrockruntime.NewFromConfig(cfg)
	ctx := context.Background()
	in := &bedrockruntime.ConverseInput{
		ModelId:         aws.String(haiku),
		Messages:        userText("say hello"),
		System:          []brtypes.SystemContentBlock{&brtypes.SystemContentBlockMemberText{Value: "be brief"}},
		InferenceConfig: &brtypes.InferenceConfiguration{MaxTokens: aws.Int32(3), Temperature: aws.Float32(0.5), StopSequences: []string{"END"}},
	}
	out, err := c.Converse(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	body := <-reqs
	msgs, _ := json.Marshal(body["messages"])
	if body["model"] != "llama3.2" || body["stream"] != true || body["max_tokens"] != 3.0 || body["temperature"] != 0.5 ||
		string(msgs) != `[{"content":"be brief","role":"system"},{"content":"say hello","role":"user"}]` {
		t.Errorf("upstream request = %v", body)
	}
	if converseText(out) != "Hello from upstream" || out.StopReason != brtypes.StopReasonMaxTokens ||
		aws.ToInt32(out.Usage.InputTokens) != 11 || aws.ToInt32(out.Usage.OutputTokens) != 3 {
		t.Errorf("answer %q %s %+v", converseText(out), out.StopReason, out.Usage)
	}
	st, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: in.ModelId, Messages: in.Messages})
	if err != nil {
		t.Fatal(err)
	}
	<-reqs
	var text strings.Builder
	var usage *brtypes.TokenUsage
	for ev := range st.GetStream().Events() {
		switch v := ev.(type) {
		case *brtypes.ConverseStreamOutputMemberContentBlockDelta:
			text.WriteString(v.Value.Delta.(*brtypes.ContentBlockDeltaMemberText).Value)
		case *brtypes.ConverseStreamOutputMemberMetadata:
			usage = v.Value.Usage
		}
	}
	if err := st.GetStream().Err(); err != nil {
		t.Fatal(err)
	}
	if text.String() != "Hello from upstream" || usage == nil || aws.ToInt32(usage.TotalTokens) != 14 {
		t.Errorf("stream %q usage %+v", text.String(), usage)
	}
}

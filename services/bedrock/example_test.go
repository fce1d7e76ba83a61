package bedrock_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/dev/localaws"
)

// The shape of a streaming handler: forward each event at once, then settle the usage the
// Result carries, whatever the error.
func ExampleClient_ConverseStream() {
	ts := httptest.NewServer(localaws.New(localaws.Config{}))
	defer ts.Close()
	client := bedrock.New(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("portico-dev", "portico-dev-secret", ""),
		BaseEndpoint: aws.String(ts.URL), // in the services: AWS_ENDPOINT_URL and bedrock.NewFromEnv
	})
	req := &inferencev1.ConverseStreamRequest{
		ModelId: "anthropic.claude-3-5-haiku-20241022-v1:0",
		Messages: []*inferencev1.Message{{
			Role:    inferencev1.Role_ROLE_USER,
			Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: "Say hello"}}},
		}},
		InferenceConfig: &inferencev1.InferenceConfig{MaxTokens: proto32(4)},
	}
	call := bedrock.Call{Limits: bedrock.Limits{MaxOutputTokens: 8192, SystemPrompt: true}}
	res, err := client.ConverseStream(context.Background(), req, call, func(ev *inferencev1.ConverseStreamResponse) error {
		switch e := ev.Event.(type) {
		case *inferencev1.ConverseStreamResponse_Start:
			fmt.Println("start", e.Start.GetModelId()) // set request_id, then stream.Send(ev)
		case *inferencev1.ConverseStreamResponse_Delta:
			fmt.Printf("delta %q\n", e.Delta.GetText())
		case *inferencev1.ConverseStreamResponse_Stop:
			fmt.Println("stop", e.Stop.GetStopReason())
		}
		return nil // a stream.Send error here ends the upstream stream at once
	})
	// Settle res.Usage in every case; send a metadata event built from it on success.
	// On error, connect.CodeOf(err) is the code to return.
	fmt.Println("err", err, "usage", res.Usage.InputTokens, res.Usage.OutputTokens, res.Usage.Estimated)
	// Output:
	// start anthropic.claude-3-5-haiku-20241022-v1:0
	// delta "##"
	// delta " About"
	// delta " Say"
	// delta " hello"
	// stop STOP_REASON_MAX_TOKENS
	// err <nil> usage 2 4 false
}

func proto32(v int32) *int32 { return &v }

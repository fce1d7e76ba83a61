package bedrock_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/dev/localaws"
)

// BenchmarkSDKConverse is the baseline: the bare SDK client calling Converse on the local
// endpoint, which answers at once (SigV4 signing and verification included). The service's
// own overhead is measured against it.
func BenchmarkSDKConverse(b *testing.B) {
	f := newFixture(b, localaws.Config{})
	c := bedrockruntime.NewFromConfig(sdkConfig(f.url, "portico-dev-secret"))
	in := &bedrockruntime.ConverseInput{
		ModelId: aws.String(haiku),
		Messages: []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{
			&types.ContentBlockMemberText{Value: "benchmark prompt"},
		}}},
		InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(64)},
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Converse(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProviderConverse is the same call through Client.Converse (validation, proto
// conversion, result mapping).
func BenchmarkProviderConverse(b *testing.B) {
	f := newFixture(b, localaws.Config{})
	req := ask(haiku, "benchmark prompt")
	req.InferenceConfig = &inferencev1.InferenceConfig{MaxTokens: ptr(int32(64))}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.client.Converse(ctx, req, bedrock.Call{Limits: haikuLimits}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProviderConverseStream streams a whole answer (about 60 deltas) through
// Client.ConverseStream.
func BenchmarkProviderConverseStream(b *testing.B) {
	f := newFixture(b, localaws.Config{})
	req := streamReq(ask(haiku, "benchmark prompt"))
	ctx := context.Background()
	send := func(*inferencev1.ConverseStreamResponse) error { return nil }
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.client.ConverseStream(ctx, req, bedrock.Call{Limits: haikuLimits}, send); err != nil {
			b.Fatal(err)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// BenchmarkProviderConverseStreamBurst streams 50 answers at once through one client, as a
// burst of people starting to chat does, and reports the connections each burst dials to
// the endpoint: after the first burst, none while the client keeps its connections idle
// (awsrt.MaxIdleConns).
func BenchmarkProviderConverseStreamBurst(b *testing.B) {
	const streams = 50
	var dials atomic.Int64
	ts := httptest.NewUnstartedServer(localaws.New(localaws.Config{}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	ts.Start()
	b.Cleanup(ts.Close)
	client := bedrock.New(sdkConfig(ts.URL, "portico-dev-secret"))
	req := streamReq(ask(haiku, "benchmark prompt"))
	ctx := context.Background()
	send := func(*inferencev1.ConverseStreamResponse) error { return nil }
	burst := func() {
		var wg sync.WaitGroup
		errs := make(chan error, streams)
		for range streams {
			wg.Go(func() {
				if _, err := client.ConverseStream(ctx, req, bedrock.Call{Limits: haikuLimits}, send); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
	}
	burst() // the first burst dials its connections
	dials.Store(0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		burst()
	}
	b.ReportMetric(float64(dials.Load())/float64(b.N), "dials/op")
}

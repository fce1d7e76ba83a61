package bedrock_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/portico-dev/portico/services/bedrock"
	"github.com/portico-dev/portico/services/dev/localaws"
)

// TestNewFromEnv reaches the local endpoint only through the SDK's standard configuration,
// as the services do in development. It sets environment variables, so it does not run in
// parallel.
func TestNewFromEnv(t *testing.T) {
	ts := httptest.NewServer(localaws.New(localaws.Config{}))
	t.Cleanup(ts.Close)
	t.Setenv("AWS_ENDPOINT_URL", ts.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "portico-dev")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "portico-dev-secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	c, err := bedrock.NewFromEnv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Converse(context.Background(), ask(haiku, "hello from the environment"), bedrock.Call{Limits: haikuLimits})
	if err != nil {
		t.Fatal(err)
	}
	if res.Usage.OutputTokens == 0 || res.UpstreamRequestID == "" {
		t.Errorf("result = %+v", res)
	}
}

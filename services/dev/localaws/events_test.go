package localaws_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/portico-dev/portico/services/dev/localaws"
)

// TestPutEvents puts events through the real SDK and refuses what EventBridge refuses.
func TestPutEvents(t *testing.T) {
	t.Parallel()
	srv := localaws.New(localaws.Config{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client := func(secret string) *eventbridge.Client {
		return eventbridge.New(eventbridge.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(localaws.DefaultAccessKeyID, secret, "")})
	}
	good := client(localaws.DefaultSecretAccessKey)
	entry := func(detail string) types.PutEventsRequestEntry {
		return types.PutEventsRequestEntry{EventBusName: aws.String("bus"), Source: aws.String("portico.governance"),
			DetailType: aws.String("Portico Quota Threshold Crossed"), Detail: aws.String(detail)}
	}
	out, err := good.PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry(`{"a":1}`), entry(`not json`)}})
	if err != nil {
		t.Fatal(err)
	}
	if out.FailedEntryCount != 1 || aws.ToString(out.Entries[0].EventId) == "" || aws.ToString(out.Entries[1].ErrorCode) != "MalformedDetail" {
		t.Errorf("PutEvents = %+v", out)
	}
	if evs := srv.Events(); len(evs) != 1 || evs[0].Bus != "bus" || evs[0].Detail != `{"a":1}` || evs[0].Source != "portico.governance" {
		t.Errorf("Events = %+v", evs)
	}
	eleven := make([]types.PutEventsRequestEntry, 11)
	for i := range eleven {
		eleven[i] = entry(`{}`)
	}
	for name, in := range map[string]*eventbridge.PutEventsInput{
		"empty entries":  {Entries: []types.PutEventsRequestEntry{}},
		"eleven entries": {Entries: eleven},
	} {
		if _, err := good.PutEvents(t.Context(), in); err == nil || !strings.Contains(err.Error(), "ValidationException") {
			t.Errorf("%s: %v, want ValidationException", name, err)
		}
	}
	if _, err := client("wrong-secret").PutEvents(t.Context(), &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry(`{}`)}}); err == nil {
		t.Error("a wrong signature was accepted")
	}
	for name, target := range map[string]string{"unsigned": "AWSEvents.PutEvents", "other operation": "AWSEvents.PutRule", "no target": ""} {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/", strings.NewReader(`{"Entries":[]}`))
		req.Header.Set("X-Amz-Target", target)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode < 400 {
			t.Errorf("%s: status %d", name, res.StatusCode)
		}
	}
	if n := len(srv.Events()); n != 1 {
		t.Errorf("%d events kept after the refusals, want 1", n)
	}
}

package main_test

import (
	"context"
	"debug/buildinfo"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
	"github.com/portico-dev/portico/gen/go/portico/conversation/v1/conversationv1connect"
	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
	convdynamo "github.com/portico-dev/portico/services/conversation/dynamostore"
	"github.com/portico-dev/portico/services/dev/devidp/devidptest"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
	"github.com/portico-dev/portico/services/store/dynamostore"
	"github.com/portico-dev/portico/services/testing/dynalitetest"
)

// buildLambda builds the command as `make build` ships it (CGO off, -tags lambda.norpc,
// -trimpath), for this machine's architecture so that the test can run it.
func buildLambda(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-o", out, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags lambda.norpc: %v\n%s", err, msg)
	}
	return out
}

// TestLambdaBuild runs the shipped build of the services (no cgo, no SQLite, the DynamoDB
// store) as Lambda runs it: against the local Runtime API with API Gateway events, its
// store a dynalite table, Bedrock the local AWS endpoint, the issuer the dev IdP, and every
// production setting given explicitly.
func TestLambdaBuild(t *testing.T) {
	t.Parallel()
	bin := buildLambda(t)

	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if settings["CGO_ENABLED"] != "0" || settings["-tags"] != "lambda.norpc" {
		t.Errorf("build settings CGO_ENABLED=%q -tags=%q, want 0 and lambda.norpc", settings["CGO_ENABLED"], settings["-tags"])
	}
	for _, d := range info.Deps {
		if strings.Contains(d.Path, "sqlite") {
			t.Errorf("the Lambda build links %s: SQLite must be left out", d.Path)
		}
	}

	ddb := dynalitetest.Start(t)
	table := ddb.Table("portico-lambda")
	ctx := context.Background()
	if err := dynamostore.EnsureTable(ctx, ddb.Client, table); err != nil {
		t.Fatal(err)
	}
	convTable := ddb.Table("portico-conversations")
	if err := convdynamo.EnsureTable(ctx, ddb.Client, convTable); err != nil {
		t.Fatal(err)
	}
	idp := devidptest.Start(t)
	local := httptest.NewServer(localaws.New(localaws.Config{TokensPerSecond: 1000}))
	t.Cleanup(local.Close)
	policyFile, err := filepath.Abs(filepath.Join("..", "..", "policy", "dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Everything production requires, given explicitly; the AWS endpoints per service.
	production := []string{
		"PORTICO_ENV=production",
		"AWS_LAMBDA_FUNCTION_NAME=portico-services-test",
		"PORTICO_LAMBDA_EVENT=" + runtimeapitest.APIGateway,
		"PORTICO_ISSUER=" + idp.Issuer(),
		"PORTICO_CLIENT_IDS=portico-web,portico-machine",
		"PORTICO_POLICY_FILE=" + policyFile,
		"PORTICO_STORE=dynamodb:" + table,
		"PORTICO_CONVERSATION_STORE=dynamodb:" + convTable,
		"AWS_ENDPOINT_URL_DYNAMODB=" + ddb.URL,
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME=" + local.URL,
		"AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=" + local.URL,
	}

	t.Run("serves from DynamoDB", func(t *testing.T) {
		t.Parallel()
		api := runtimeapitest.New()
		t.Cleanup(api.Close)
		p := spawnBinary(t, bin, slices.Concat(production, []string{"AWS_LAMBDA_RUNTIME_API=" + api.Addr()})...)
		client := &http.Client{Transport: &runtimeapitest.Transport{Server: api, Event: runtimeapitest.APIGateway, Timeout: 30 * time.Second}}
		const base = "https://api.example"
		alice := idp.AccessToken(t, "alice")

		me, err := identityv1connect.NewIdentityServiceClient(client, base).GetMe(withBearer(ctx, alice), &identityv1.GetMeRequest{})
		if err != nil {
			t.Fatalf("GetMe: %v\n%s", err, p.log())
		}
		if me.GetPrincipal().GetUsername() != "alice" {
			t.Errorf("GetMe = %v", me)
		}
		inference := inferencev1connect.NewInferenceServiceClient(client, base)
		models, err := inference.ListModels(withBearer(ctx, alice), &inferencev1.ListModelsRequest{})
		if err != nil || len(models.GetModels()) == 0 {
			t.Fatalf("ListModels: %v, %d models\n%s", err, len(models.GetModels()), p.log())
		}
		answer, err := inference.Converse(withBearer(ctx, alice), &inferencev1.ConverseRequest{ModelId: haiku, Messages: []*inferencev1.Message{{
			Role:    inferencev1.Role_ROLE_USER,
			Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: "Tell me about ducks"}}},
		}}})
		if err != nil {
			t.Fatalf("Converse: %v\n%s", err, p.log())
		}
		if len(answer.GetOutput().GetContent()) == 0 || answer.GetOutput().GetContent()[0].GetText() == "" {
			t.Fatalf("Converse answered %v", answer)
		}
		usage, err := inference.GetUsage(withBearer(ctx, alice), &inferencev1.GetUsageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if usage.GetToday().GetRequests() != 1 {
			t.Errorf("GetUsage today = %v, want the one conversation", usage.GetToday())
		}
		// A kept conversation is stored in the conversation table.
		kept, err := inference.Converse(withBearer(ctx, alice), &inferencev1.ConverseRequest{ModelId: haiku, Messages: []*inferencev1.Message{{
			Role:    inferencev1.Role_ROLE_USER,
			Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: "Tell me about geese"}}},
		}}, Conversation: &inferencev1.ConversationRef{}})
		if err != nil {
			t.Fatalf("Converse with a conversation: %v\n%s", err, p.log())
		}
		list, err := conversationv1connect.NewConversationServiceClient(client, base).ListConversations(withBearer(ctx, alice), &conversationv1.ListConversationsRequest{})
		if err != nil || len(list.GetConversations()) != 1 || list.GetConversations()[0].GetId() != kept.GetConversation().GetConversationId() {
			t.Fatalf("ListConversations: %v, %v", list, err)
		}
		// The conversation's records are in the DynamoDB table, not anywhere else.
		items, err := ddb.Client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Select: "COUNT"})
		if err != nil {
			t.Fatal(err)
		}
		if items.Count == 0 {
			t.Errorf("table %s is empty after a conversation", table)
		}
	})

	t.Run("refuses SQLite", func(t *testing.T) {
		t.Parallel()
		api := runtimeapitest.New()
		t.Cleanup(api.Close)
		p := spawnBinary(t, bin, slices.Concat(production, []string{"AWS_LAMBDA_RUNTIME_API=" + api.Addr(),
			"PORTICO_STORE=sqlite:" + filepath.Join(t.TempDir(), "portico.db")})...)
		select {
		case report := <-api.InitErrors():
			if msg := runtimeapitest.ErrorMessage(report.Body); !strings.Contains(msg, "SQLite is not in Lambda builds") {
				t.Errorf("init error %q, want SQLite refused", msg)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no init error\n%s", p.log())
		}
		<-p.done
		if p.err == nil {
			t.Error("exited 0")
		}
	})
}

package localaws_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime"
	batypes "github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/types"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"

	"github.com/portico-dev/portico/services/dev/localaws"
)

func retrieve(t *testing.T, cfg aws.Config, kb, query string, n int32) (*bedrockagentruntime.RetrieveOutput, error) {
	t.Helper()
	c := bedrockagentruntime.NewFromConfig(cfg)
	in := &bedrockagentruntime.RetrieveInput{KnowledgeBaseId: aws.String(kb), RetrievalQuery: &batypes.KnowledgeBaseQuery{Text: aws.String(query)}}
	if n > 0 {
		in.RetrievalConfiguration = &batypes.KnowledgeBaseRetrievalConfiguration{
			VectorSearchConfiguration: &batypes.KnowledgeBaseVectorSearchConfiguration{NumberOfResults: aws.Int32(n)},
		}
	}
	return c.Retrieve(context.Background(), in)
}

// TestRetrieveRanksWithBM25: the real SDK's Retrieve gets the paragraphs that share the
// query's rarest words first, scores falling, at most numberOfResults, nothing for a query
// no paragraph matches, and links that serve the document.
func TestRetrieveRanksWithBM25(t *testing.T) {
	t.Parallel()
	corpus := fstest.MapFS{
		"cats.md":   {Data: []byte("# Cats\n\nCats purr and sleep all day.\n\nA cat is a small animal.")},
		"dogs.md":   {Data: []byte("# Dogs\n\nDogs bark. Dogs fetch sticks and sleep at night.")},
		"quotas.md": {Data: []byte("# Quotas\n\nQuotas reset every month at midnight UTC.")},
	}
	_, cfg := newServer(t, localaws.Config{KnowledgeBases: []localaws.KnowledgeBase{{ID: "TESTKB0001", Documents: corpus}}})
	out, err := retrieve(t, cfg, "TESTKB0001", "when do quotas reset?", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.RetrievalResults) != 1 || !strings.Contains(aws.ToString(out.RetrievalResults[0].Content.Text), "Quotas reset") {
		t.Fatalf("results = %+v", out.RetrievalResults)
	}
	out, err = retrieve(t, cfg, "TESTKB0001", "do dogs or cats sleep?", 2)
	if err != nil {
		t.Fatal(err)
	}
	rs := out.RetrievalResults
	if len(rs) != 2 || aws.ToFloat64(rs[0].Score) < aws.ToFloat64(rs[1].Score) {
		t.Fatalf("results = %+v", rs)
	}
	// "dogs" appears twice in its paragraph: it outranks the cats' one-"cats" paragraph.
	if url := aws.ToString(rs[0].Location.WebLocation.Url); !strings.HasSuffix(url, "/_portico/knowledgebases/TESTKB0001/documents/dogs.md") {
		t.Errorf("first result from %s", url)
	}
	resp, err := http.Get(aws.ToString(rs[0].Location.WebLocation.Url)) //nolint:gosec,noctx // the test server
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("document: %v %v", resp, err)
	}
	_ = resp.Body.Close()
	out, err = retrieve(t, cfg, "TESTKB0001", "xylophone", 5)
	if err != nil || len(out.RetrievalResults) != 0 {
		t.Errorf("unmatched query: %+v, %v", out, err)
	}
}

// TestRetrieveRefusesLikeBedrock is the table of Retrieve errors: unknown knowledge base,
// bad numberOfResults, blank query, wrong credentials, and the injected faults.
func TestRetrieveRefusesLikeBedrock(t *testing.T) {
	t.Parallel()
	s, cfg := newServer(t, localaws.Config{})
	tests := []struct {
		name, kb, query string
		n               int32
		cfg             *aws.Config
		code            string
	}{
		{"unknown knowledge base", "NOPE000000", "quotas", 0, nil, "ResourceNotFoundException"},
		{"too many results", localaws.HandbookID, "quotas", 101, nil, "ValidationException"},
		{"blank query", localaws.HandbookID, "   ", 0, nil, "ValidationException"},
		{"wrong secret", localaws.HandbookID, "quotas", 0, ptr(awsConfig(aws.ToString(cfg.BaseEndpoint), "portico-dev", "wrong")), "InvalidSignatureException"},
		{"throttled", localaws.HandbookID, "[[fault:throttle]] quotas", 0, nil, "ThrottlingException"},
		{"access denied", localaws.HandbookID, "[[fault:accessdenied]] quotas", 0, nil, "AccessDeniedException"},
		{"vector store down", localaws.HandbookID, "[[fault:unavailable]] quotas", 0, nil, "DependencyFailedException"},
	}
	for _, tt := range tests {
		c := cfg
		if tt.cfg != nil {
			c = *tt.cfg
		}
		_, err := retrieve(t, c, tt.kb, tt.query, tt.n)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.code)
		}
	}
	if err := s.Faults().Add(localaws.Fault{Target: localaws.HandbookID, Fault: localaws.FaultThrottle, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := retrieve(t, cfg, localaws.HandbookID, "quotas", 0); err == nil || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("registered fault: err = %v", err)
	}
}

// TestConverseChecksDocumentsLikeBedrock: names outside Bedrock's characters, duplicates,
// too many documents and unknown formats are refused, and the answer names what it got.
func TestConverseChecksDocumentsLikeBedrock(t *testing.T) {
	t.Parallel()
	_, cfg := newServer(t, localaws.Config{})
	c := bedrockruntime.NewFromConfig(cfg)
	d := func(name, format string) brtypes.ContentBlock {
		return &brtypes.ContentBlockMemberDocument{Value: brtypes.DocumentBlock{
			Name: aws.String(name), Format: brtypes.DocumentFormat(format), Source: &brtypes.DocumentSourceMemberBytes{Value: []byte("a,b")},
		}}
	}
	call := func(blocks ...brtypes.ContentBlock) (*bedrockruntime.ConverseOutput, error) {
		blocks = append(blocks, &brtypes.ContentBlockMemberText{Value: "what is this?"})
		return c.Converse(context.Background(), &bedrockruntime.ConverseInput{ModelId: aws.String(nova),
			Messages: []brtypes.Message{{Role: brtypes.ConversationRoleUser, Content: blocks}}})
	}
	tests := []struct {
		name   string
		blocks []brtypes.ContentBlock
		want   string
	}{
		{"dot in the name", []brtypes.ContentBlock{d("data.csv", "csv")}, "alphanumeric"},
		{"two spaces", []brtypes.ContentBlock{d("a  b", "csv")}, "alphanumeric"},
		{"path", []brtypes.ContentBlock{d("../x", "csv")}, "alphanumeric"},
		{"duplicate", []brtypes.ContentBlock{d("data", "csv"), d("DATA", "csv")}, "Duplicate"},
		{"six", []brtypes.ContentBlock{d("a", "csv"), d("b", "csv"), d("c", "csv"), d("d", "csv"), d("e", "csv"), d("f", "csv")}, "more than 5"},
		{"unknown format", []brtypes.ContentBlock{d("a", "exe")}, "format"},
	}
	for _, tt := range tests {
		if _, err := call(tt.blocks...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	out, err := call(d("Sales (Q3) [draft]", "csv"))
	if err != nil {
		t.Fatal(err)
	}
	if got := converseText(out); !strings.HasPrefix(got, "Documents received by the local stand-in: Sales (Q3) [draft] (csv, 3 bytes).") {
		t.Errorf("answer = %q", got)
	}
}

func ptr[T any](v T) *T { return &v }

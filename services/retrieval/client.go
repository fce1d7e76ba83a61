package retrieval

import (
	"context"
	"errors"
	"path"
	"strings"
	"time"

	"connectrpc.com/connect"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentruntime/types"
	"github.com/aws/smithy-go"

	"github.com/portico-dev/portico/services/platform/awsrt"
)

// Limits of one retrieval.
const (
	// DefaultPassages is how many passages a retrieval asks for.
	DefaultPassages = 5
	// MaxQueryChars bounds the query sent (Retrieve allows longer; the last user turn is
	// cut to this).
	MaxQueryChars = 1000
	// MaxPassageChars bounds the text of one passage given to the model.
	MaxPassageChars = 4000
)

// Passage is one retrieved chunk of a knowledge base.
type Passage struct {
	// Title names the source document (its file name, or the URI when it has none).
	Title string
	// Location is the source's URI (s3://, https://...), empty when unknown.
	Location string
	// Text is the chunk's text, at most MaxPassageChars characters.
	Text string
	// Score is the relevance Retrieve reported.
	Score float64
}

// Retriever retrieves passages from a knowledge base; *Client is one.
type Retriever interface {
	Retrieve(ctx context.Context, knowledgeBaseID, query string, n int) ([]Passage, error)
}

// Client calls bedrock-agent-runtime. It is safe for concurrent use.
type Client struct {
	rt       *bedrockagentruntime.Client
	settings awsrt.Settings
}

// Option configures a Client: awsrt's WithMaxAttempts, WithMaxBackoff, WithRetryAfter, or
// SDK options (awsrt.SDKOptions[bedrockagentruntime.Options]).
type Option = awsrt.Option

// New returns a client over the SDK configuration cfg (endpoint, region, credentials;
// AWS_ENDPOINT_URL points it at the local stand-in).
func New(cfg aws.Config, opts ...Option) *Client {
	s, sdkOpts := awsrt.Apply[bedrockagentruntime.Options](opts)
	guard := func(o *bedrockagentruntime.Options) {
		o.HTTPClient = awsrt.GuardHTTPClient(o.HTTPClient)
		o.Retryer = s.Retryer()
	}
	return &Client{rt: bedrockagentruntime.NewFromConfig(cfg, append([]func(*bedrockagentruntime.Options){guard}, sdkOpts...)...), settings: s}
}

// Retrieve returns up to n passages of the knowledge base relevant to query, best first.
func (c *Client) Retrieve(ctx context.Context, knowledgeBaseID, query string, n int) ([]Passage, error) {
	if n <= 0 {
		n = DefaultPassages
	}
	out, err := c.rt.Retrieve(ctx, &bedrockagentruntime.RetrieveInput{
		KnowledgeBaseId: aws.String(knowledgeBaseID),
		RetrievalQuery:  &types.KnowledgeBaseQuery{Text: aws.String(truncate(query, MaxQueryChars))},
		RetrievalConfiguration: &types.KnowledgeBaseRetrievalConfiguration{
			VectorSearchConfiguration: &types.KnowledgeBaseVectorSearchConfiguration{NumberOfResults: aws.Int32(int32(min(n, 100)))}, //nolint:gosec // G115: bounded
		},
	})
	if err != nil {
		return nil, c.toConnect(ctx, err)
	}
	ps := make([]Passage, 0, len(out.RetrievalResults))
	for _, r := range out.RetrievalResults {
		if r.Content == nil || strings.TrimSpace(aws.ToString(r.Content.Text)) == "" {
			continue
		}
		loc := location(r.Location)
		ps = append(ps, Passage{
			Title: title(loc), Location: loc,
			Text: truncate(aws.ToString(r.Content.Text), MaxPassageChars), Score: aws.ToFloat64(r.Score),
		})
		if len(ps) == n {
			break
		}
	}
	return ps, nil
}

// location returns a retrieval result's URI.
func location(l *types.RetrievalResultLocation) string {
	switch {
	case l == nil:
		return ""
	case l.S3Location != nil:
		return aws.ToString(l.S3Location.Uri)
	case l.WebLocation != nil:
		return aws.ToString(l.WebLocation.Url)
	case l.ConfluenceLocation != nil:
		return aws.ToString(l.ConfluenceLocation.Url)
	case l.SharePointLocation != nil:
		return aws.ToString(l.SharePointLocation.Url)
	case l.SalesforceLocation != nil:
		return aws.ToString(l.SalesforceLocation.Url)
	case l.CustomDocumentLocation != nil:
		return aws.ToString(l.CustomDocumentLocation.Id)
	}
	return ""
}

// title names a source by the last element of its URI.
func title(uri string) string {
	if uri == "" {
		return "untitled source"
	}
	t := path.Base(strings.TrimRight(uri, "/"))
	if t == "." || t == "/" || t == "" {
		return uri
	}
	return t
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// toConnect maps an SDK error to a *connect.Error (see the package documentation).
func (c *Client) toConnect(ctx context.Context, err error) *connect.Error {
	classify := func(err error) (connect.Code, string, bool) { return classify(ctx, err) }
	return c.settings.ToConnect(err, classify, func(connect.Code, error) bool { return false })
}

func classify(ctx context.Context, err error) (connect.Code, string, bool) {
	var (
		accessDenied *types.AccessDeniedException
		notFound     *types.ResourceNotFoundException
		throttling   *types.ThrottlingException
		quota        *types.ServiceQuotaExceededException
		validation   *types.ValidationException
		dependency   *types.DependencyFailedException
		badGateway   *types.BadGatewayException
		internal     *types.InternalServerException
		conflict     *types.ConflictException
		apiErr       smithy.APIError
	)
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			return connect.CodeDeadlineExceeded, "the knowledge base did not answer in time", false
		}
		return connect.CodeCanceled, "the request was canceled", false
	}
	switch {
	case errors.As(err, &accessDenied):
		return connect.CodePermissionDenied, "Portico may not read this knowledge base; an operator must grant bedrock:Retrieve on it", false
	case errors.As(err, &notFound):
		return connect.CodeNotFound, "the knowledge base does not exist in this deployment's account and region", false
	case errors.As(err, &throttling):
		return connect.CodeResourceExhausted, "the knowledge base is throttling requests; retry later", true
	case errors.As(err, &quota):
		return connect.CodeResourceExhausted, "the knowledge base's service quota is exhausted; retry later", true
	case errors.As(err, &validation):
		return connect.CodeInvalidArgument, "the knowledge base refused the question as invalid", false
	case errors.As(err, &dependency), errors.As(err, &badGateway):
		return connect.CodeUnavailable, "the knowledge base's data store is unavailable; retry later", true
	case errors.As(err, &internal):
		return connect.CodeInternal, "the knowledge base had an internal error", false
	case errors.As(err, &conflict):
		return connect.CodeAborted, "the knowledge base refused the request as conflicting", false
	case errors.As(err, &apiErr):
		return awsrt.ClassifyCode(apiErr.ErrorCode(), "the knowledge base")
	}
	return connect.CodeUnavailable, "the knowledge base could not be reached; retry later", true
}

// Timed runs a retrieval and measures it.
func Timed(ctx context.Context, r Retriever, kb, query string, n int) ([]Passage, time.Duration, error) {
	start := time.Now()
	ps, err := r.Retrieve(ctx, kb, query, n)
	return ps, time.Since(start), err
}

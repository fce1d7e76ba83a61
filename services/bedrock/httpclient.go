package bedrock

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// guardedClient hands net/http a request body of its own instead of the SDK's. The SDK closes
// its request body as soon as response headers arrive; with an event-stream response that
// can race net/http's transport, which is still finishing the request write, sees io.EOF and
// closes the connection, cutting the stream after a few events. With a body of its own the
// transport's bookkeeping no longer collides with the SDK's close, and streams run to the end
// (observed with Go 1.26 and aws-sdk-go-v2 bedrockruntime v1.63; see TestConverseStreamPaced).
type guardedClient struct{ next aws.HTTPClient }

// guardHTTPClient wraps the configured HTTP client, or the SDK's default one.
func guardHTTPClient(c aws.HTTPClient) aws.HTTPClient {
	if c == nil {
		c = awshttp.NewBuildableClient()
	}
	return guardedClient{next: c}
}

type ownBody struct{ rc io.ReadCloser }

func (b ownBody) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b ownBody) Close() error               { return b.rc.Close() }

func (g guardedClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		shallow := *r
		shallow.Body = ownBody{r.Body}
		r = &shallow
	}
	return g.next.Do(r)
}

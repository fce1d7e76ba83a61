package awsrt

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// TestGuardHTTPClientIdlePool checks that the SDK's client, default or configured, keeps
// MaxIdleConns idle connections per host once guarded (the SDK's default is 10), keeping its
// other settings, and that a client of another kind is used as it is.
func TestGuardHTTPClientIdlePool(t *testing.T) {
	t.Parallel()
	configured := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.MaxConnsPerHost = 7 })
	for _, tc := range []struct {
		name     string
		in       aws.HTTPClient
		maxConns int
	}{
		{"default", nil, awshttp.DefaultHTTPTransportMaxConnsPerHost},
		{"configured", configured, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g, ok := GuardHTTPClient(tc.in).(guardedClient)
			if !ok {
				t.Fatalf("GuardHTTPClient returned %T", GuardHTTPClient(tc.in))
			}
			b, ok := g.next.(*awshttp.BuildableClient)
			if !ok {
				t.Fatalf("guarded client wraps %T, want *awshttp.BuildableClient", g.next)
			}
			tr := b.GetTransport()
			if tr.MaxIdleConns != MaxIdleConns || tr.MaxIdleConnsPerHost != MaxIdleConns {
				t.Errorf("idle pool = %d in all, %d per host; want %d and %d", tr.MaxIdleConns, tr.MaxIdleConnsPerHost, MaxIdleConns, MaxIdleConns)
			}
			if tr.MaxConnsPerHost != tc.maxConns {
				t.Errorf("MaxConnsPerHost = %d, want %d (kept)", tr.MaxConnsPerHost, tc.maxConns)
			}
		})
	}
	other := http.DefaultClient
	if g := GuardHTTPClient(other).(guardedClient); g.next != aws.HTTPClient(other) {
		t.Errorf("a client of another kind was replaced by %T", g.next)
	}
}

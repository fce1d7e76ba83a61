package proxy

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

func TestDefaultAllowlist(t *testing.T) {
	t.Parallel()
	allow, err := DefaultAllowlist()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"/portico.identity.v1.IdentityService/GetMe",
		"/portico.inference.v1.InferenceService/ListModels",
		"/portico.inference.v1.InferenceService/Converse",
		"/portico.inference.v1.InferenceService/ConverseStream",
		"/portico.inference.v1.InferenceService/InvokeEndpoint",
		"/portico.inference.v1.InferenceService/InvokeEndpointStream",
		"/portico.inference.v1.InferenceService/GetUsage",
		"/portico.admin.v1.AdminService/ListUsage",
		"/portico.admin.v1.AdminService/ListAuditEvents",
		"/portico.apikey.v1.ApiKeyService/CreateApiKey",
		"/portico.apikey.v1.ApiKeyService/AdminRevokeApiKey",
	} {
		if !allow[p] {
			t.Errorf("allowlist lacks %s", p)
		}
	}
	for _, p := range []string{"/grpc.health.v1.Health/Check", "/portico.identity.v1.IdentityService/", "/GetMe"} {
		if allow[p] {
			t.Errorf("allowlist has %s", p)
		}
	}
	if _, err := AllowlistFor("portico.nope.v1.NopeService"); err == nil {
		t.Error("AllowlistFor accepted an unknown service")
	}
	if _, err := AllowlistFor("portico.identity.v1.GetMeRequest"); err == nil {
		t.Error("AllowlistFor accepted a message")
	}
}

type allowAll struct{}

func (allowAll) Check(*http.Request) error { return nil }

// TestRefusalsSpeakTheCallersProtocol checks that a gRPC-Web caller gets its refusal as
// gRPC-Web (status in grpc-status), so connect-web reports the right code.
func TestRefusalsSpeakTheCallersProtocol(t *testing.T) {
	t.Parallel()
	upstream, _ := url.Parse("http://127.0.0.1:1")
	p, err := New(Config{
		Upstream:  upstream,
		Allowlist: Allowlist{"/a.B/C": true},
		Guard:     allowAll{},
		Authorize: func(http.ResponseWriter, *http.Request) (string, error) { return "", nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/api/a.B/D", nil)
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	p.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Grpc-Status") != "5" {
		t.Fatalf("gRPC-Web refusal: %d, grpc-status %q", rec.Code, rec.Header().Get("Grpc-Status"))
	}
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, remote, viewer string
		trust                bool
		want                 string
	}{
		{"peer", "192.0.2.9:5555", "", false, "192.0.2.9"},
		{"viewer ignored when untrusted", "192.0.2.9:5555", "198.51.100.10:46532", false, "192.0.2.9"},
		{"viewer v4", "192.0.2.9:5555", "198.51.100.10:46532", true, "198.51.100.10"},
		{"viewer v6", "192.0.2.9:5555", "2001:db8::1:46532", true, "2001:db8::1"},
		{"garbage viewer", "192.0.2.9:5555", "evil", true, "192.0.2.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if tt.viewer != "" {
				r.Header.Set("CloudFront-Viewer-Address", tt.viewer)
			}
			if got := clientIP(r, tt.trust); got != tt.want {
				t.Fatalf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

package authn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/token"
)

type fakeVerifier map[string]*principal.Principal

func (f fakeVerifier) Verify(_ context.Context, raw string) (*principal.Principal, error) {
	if raw == "down" {
		return nil, token.ErrKeySet
	}
	if raw == "store-down" {
		return nil, errors.Join(ErrUnavailable, errors.New("dynamodb: timeout"))
	}
	if p, ok := f[raw]; ok {
		return p, nil
	}
	return nil, errors.New("refused")
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	v := fakeVerifier{
		"alice": {Kind: principal.KindPerson, Username: "alice"},
		"m-id":  {Kind: principal.KindMachine, ClientID: "m", Scopes: []string{ScopeIdentity}},
		"key":   {Kind: principal.KindPerson, Username: "alice", APIKey: "portico_sk_abcdef"},
	}
	var logs strings.Builder
	h := New(v, slog.New(slog.NewTextHandler(&logs, nil)))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := principal.FromContext(r.Context())
		if !ok {
			t.Error("no principal in context")
		}
		_, _ = io.WriteString(w, p.Username)
	}))
	const identity = "/portico.identity.v1.IdentityService/GetMe"
	const inference = "/portico.inference.v1.InferenceService/ListModels"
	tests := []struct {
		name, path string
		header     []string
		status     int
		wwwAuth    string
	}{
		{"no header", identity, nil, 401, `Bearer realm="portico"`},
		{"empty bearer", identity, []string{"Bearer "}, 401, `Bearer realm="portico"`},
		{"basic scheme", identity, []string{"Basic YTpi"}, 401, `error="invalid_token"`},
		{"two headers", identity, []string{"Bearer alice", "Bearer alice"}, 401, `error="invalid_token"`},
		{"refused token", identity, []string{"Bearer nope"}, 401, `error="invalid_token"`},
		{"keys unreachable", identity, []string{"Bearer down"}, 503, ""},
		{"person", identity, []string{"Bearer alice"}, 200, ""},
		{"lower-case scheme", inference, []string{"bearer alice"}, 200, ""},
		{"machine with scope", identity, []string{"Bearer m-id"}, 200, ""},
		{"machine without scope", inference, []string{"Bearer m-id"}, 403, ""},
		{"machine to unmapped service", "/portico.admin.v1.AdminService/ListUsage", []string{"Bearer m-id"}, 403, ""},
		{"machine, prefixed path", "/api" + identity, []string{"Bearer m-id"}, 200, ""},
		{"key store unreachable", inference, []string{"Bearer store-down"}, 503, ""},
		{"API key on inference", inference, []string{"Bearer key"}, 200, ""},
		{"API key on identity", identity, []string{"Bearer key"}, 403, ""},
		{"API key on admin", "/portico.admin.v1.AdminService/ListUsage", []string{"Bearer key"}, 403, ""},
		{"API key minting keys", "/portico.apikey.v1.ApiKeyService/CreateApiKey", []string{"Bearer key"}, 403, ""},
		{"API key on conversations", "/portico.conversation.v1.ConversationService/ListConversations", []string{"Bearer key"}, 403, ""},
		{"API key, inference name as a prefix", "/portico.inference.v1.InferenceService/../portico.apikey.v1.ApiKeyService/CreateApiKey", []string{"Bearer key"}, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader("{}"))
			r.Header.Set("Content-Type", "application/json")
			for _, v := range tt.header {
				r.Header.Add("Authorization", v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); !strings.Contains(got, tt.wwwAuth) || (tt.wwwAuth == "") != (got == "") {
				t.Errorf("WWW-Authenticate = %q, want %q", got, tt.wwwAuth)
			}
		})
	}
	t.Run("logs never hold tokens", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodPost, identity, nil)
		r.Header.Set("Authorization", "Bearer secret-token-value")
		h.ServeHTTP(httptest.NewRecorder(), r)
		if strings.Contains(logs.String(), "secret-token-value") {
			t.Errorf("log holds the token: %s", logs.String())
		}
		if !strings.Contains(logs.String(), "reason=refused") {
			t.Errorf("log lacks the reason: %s", logs.String())
		}
	})
}

func TestServiceOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/a.B/C": "a.B", "/prefix/a.B/C": "a.B", "/": "", "": "", "/x": "",
	} {
		if got := serviceOf(in); got != want {
			t.Errorf("serviceOf(%q) = %q, want %q", in, got, want)
		}
	}
}

package apikey_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"

	apikeyv1 "github.com/portico-dev/portico/gen/go/portico/apikey/v1"
	"github.com/portico-dev/portico/gen/go/portico/apikey/v1/apikeyv1connect"
	"github.com/portico-dev/portico/services/apikey"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
)

type svcEnv struct {
	*env
	client apikeyv1connect.ApiKeyServiceClient
}

func newSvcEnv(t *testing.T) *svcEnv {
	t.Helper()
	e := newEnv(t)
	people := tokens{
		"alice":   {Kind: principal.KindPerson, Username: "alice", Subject: "sub-alice", Groups: []string{"MLUsers"}},
		"bob":     {Kind: principal.KindPerson, Username: "bob", Subject: "sub-bob", Groups: []string{"MLUsers"}},
		"dana":    {Kind: principal.KindPerson, Username: "dana", Subject: "sub-dana", Groups: []string{"Admins", "MLUsers"}},
		"carol":   {Kind: principal.KindPerson, Username: "carol", Subject: "sub-carol", Groups: []string{"MLUsers", "NoKeys"}},
		"machine": {Kind: principal.KindMachine, Username: "m", ClientID: "m", Scopes: []string{"portico/inference"}},
	}
	seen := apikey.NewSeenRecorder(e.store, e.clock.Now, nil)
	v := apikey.NewVerifier(people, e.res, seen)
	svc := apikey.NewService(apikey.ServiceConfig{
		Store: e.store, Policy: func() *policy.Policy { return e.pol }, Resolver: e.res, Seen: seen,
		Admin: func(p *principal.Principal) bool { return p.InGroup("Admins") }, APIBaseURL: "https://api.example.com/v1",
		Now: e.clock.Now,
	})
	mux := http.NewServeMux()
	mux.Handle(apikeyv1connect.NewApiKeyServiceHandler(svc))
	srv := httptest.NewServer(authn.New(v, slog.New(slog.DiscardHandler))(mux))
	t.Cleanup(srv.Close)
	return &svcEnv{env: e, client: apikeyv1connect.NewApiKeyServiceClient(srv.Client(), srv.URL)}
}

// as returns a client context that calls as who (a token or a secret; "" sends none).
func as(ctx context.Context, who string) context.Context {
	ctx, info := connect.NewClientContext(ctx)
	if who != "" {
		info.RequestHeader().Set("Authorization", "Bearer "+who)
	}
	return ctx
}

func code(err error) connect.Code {
	if err == nil {
		return 0
	}
	return connect.CodeOf(err)
}

func TestServiceLifecycle(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	ctx := t.Context()
	created, err := e.client.CreateApiKey(as(ctx, "alice"), &apikeyv1.CreateApiKeyRequest{Name: "notebook", ExpireDays: 7, ModelIds: []string{"m1"}})
	if err != nil {
		t.Fatal(err)
	}
	secret, k := created.GetSecret(), created.GetKey()
	if apikey.Check(secret) != nil || k.GetOwner() != "alice" || k.GetPrefix() != apikey.DisplayPrefix(secret) ||
		!k.GetExpireTime().AsTime().Equal(e.clock.Now().AddDate(0, 0, 7)) || len(k.GetModelIds()) != 1 {
		t.Fatalf("created %v", created)
	}
	// At rest: only the hash.
	stored, err := e.store.ByHash(ctx, apikey.Hash(secret))
	if err != nil || stored.Hash != apikey.Hash(secret) || strings.Contains(stored.Name+stored.Prefix+stored.ID, secret[17:]) {
		t.Errorf("stored %+v, %v", stored, err)
	}
	// The key works at once: creating it recorded alice's sign-in.
	if p, err := e.res.Resolve(ctx, secret); err != nil || p.Username != "alice" {
		t.Fatalf("resolve new key: %v, %v", p, err)
	}
	list, err := e.client.ListApiKeys(as(ctx, "alice"), &apikeyv1.ListApiKeysRequest{})
	if err != nil || len(list.GetKeys()) != 1 || list.GetApiBaseUrl() != "https://api.example.com/v1" ||
		list.GetMaxExpireDays() != 90 || list.GetMaxIdleDays() != 30 || !list.GetKeysAllowed() || list.GetAdmin() {
		t.Errorf("alice's list = %v, %v", list, err)
	}
	if bobs, err := e.client.ListApiKeys(as(ctx, "bob"), &apikeyv1.ListApiKeysRequest{}); err != nil || len(bobs.GetKeys()) != 0 {
		t.Errorf("bob sees %v, %v", bobs.GetKeys(), err)
	}
	if _, err := e.client.RevokeApiKey(as(ctx, "bob"), &apikeyv1.RevokeApiKeyRequest{Id: k.GetId()}); code(err) != connect.CodeNotFound {
		t.Errorf("bob revoking alice's key: %v, want NotFound", err)
	}
	if _, err := e.client.ListAllApiKeys(as(ctx, "alice"), &apikeyv1.ListAllApiKeysRequest{}); code(err) != connect.CodePermissionDenied {
		t.Errorf("alice listing everyone's: %v", err)
	}
	if _, err := e.client.AdminRevokeApiKey(as(ctx, "bob"), &apikeyv1.AdminRevokeApiKeyRequest{Owner: "alice", Id: k.GetId()}); code(err) != connect.CodePermissionDenied {
		t.Errorf("bob admin-revoking: %v", err)
	}
	all, err := e.client.ListAllApiKeys(as(ctx, "dana"), &apikeyv1.ListAllApiKeysRequest{})
	if err != nil || len(all.GetKeys()) != 1 || all.GetKeys()[0].GetOwner() != "alice" {
		t.Fatalf("dana's list of all = %v, %v", all, err)
	}
	rev, err := e.client.AdminRevokeApiKey(as(ctx, "dana"), &apikeyv1.AdminRevokeApiKeyRequest{Owner: "alice", Id: k.GetId()})
	if err != nil || rev.GetKey().GetRevokedBy() != "dana" || rev.GetKey().GetRevokeTime() == nil {
		t.Fatalf("dana revoking: %v, %v", rev, err)
	}
	if _, err := e.res.Resolve(ctx, secret); !errors.Is(err, apikey.ErrRefused) {
		t.Errorf("revoked key on the revoking instance: %v, want refused at once", err)
	}
	// The owner revokes her own.
	second, err := e.client.CreateApiKey(as(ctx, "alice"), &apikeyv1.CreateApiKeyRequest{Name: "second"})
	if err != nil {
		t.Fatal(err)
	}
	if !second.GetKey().GetExpireTime().AsTime().Equal(e.clock.Now().AddDate(0, 0, 90)) {
		t.Errorf("default expiry = %v, want the policy's maximum", second.GetKey().GetExpireTime().AsTime())
	}
	if _, err := e.client.RevokeApiKey(as(ctx, "alice"), &apikeyv1.RevokeApiKeyRequest{Id: second.GetKey().GetId()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.res.Resolve(ctx, second.GetSecret()); !errors.Is(err, apikey.ErrRefused) {
		t.Errorf("key revoked by its owner still resolves: %v", err)
	}
}

// TestServiceRefusals is the attack table of ApiKeyService.
func TestServiceRefusals(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	ctx := t.Context()
	aliceKey, err := e.client.CreateApiKey(as(ctx, "alice"), &apikeyv1.CreateApiKeyRequest{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		who  string
		req  *apikeyv1.CreateApiKeyRequest
		want connect.Code
	}{
		{"no name", "alice", &apikeyv1.CreateApiKeyRequest{}, connect.CodeInvalidArgument},
		{"blank name", "alice", &apikeyv1.CreateApiKeyRequest{Name: "  "}, connect.CodeInvalidArgument},
		{"name too long", "alice", &apikeyv1.CreateApiKeyRequest{Name: strings.Repeat("x", 65)}, connect.CodeInvalidArgument},
		{"control character in name", "alice", &apikeyv1.CreateApiKeyRequest{Name: "a\x1b[31m"}, connect.CodeInvalidArgument},
		{"expiry past the policy's maximum", "alice", &apikeyv1.CreateApiKeyRequest{Name: "k", ExpireDays: 91}, connect.CodeInvalidArgument},
		{"negative expiry", "alice", &apikeyv1.CreateApiKeyRequest{Name: "k", ExpireDays: -1}, connect.CodeInvalidArgument},
		{"model not entitled", "alice", &apikeyv1.CreateApiKeyRequest{Name: "k", ModelIds: []string{"m3"}}, connect.CodeInvalidArgument},
		{"model twice", "alice", &apikeyv1.CreateApiKeyRequest{Name: "k", ModelIds: []string{"m1", "m1"}}, connect.CodeInvalidArgument},
		{"group disables keys", "carol", &apikeyv1.CreateApiKeyRequest{Name: "k"}, connect.CodePermissionDenied},
		{"machine client", "machine", &apikeyv1.CreateApiKeyRequest{Name: "k"}, connect.CodePermissionDenied},
		{"a key minting a key", aliceKey.GetSecret(), &apikeyv1.CreateApiKeyRequest{Name: "k"}, connect.CodePermissionDenied},
		{"no credentials", "", &apikeyv1.CreateApiKeyRequest{Name: "k"}, connect.CodeUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := e.client.CreateApiKey(as(t.Context(), tt.who), tt.req); code(err) != tt.want {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := e.client.ListApiKeys(as(ctx, aliceKey.GetSecret()), &apikeyv1.ListApiKeysRequest{}); code(err) != connect.CodePermissionDenied {
		t.Errorf("a key listing keys: %v", err)
	}
	if _, err := e.client.AdminRevokeApiKey(as(ctx, "dana"), &apikeyv1.AdminRevokeApiKeyRequest{Id: "x"}); code(err) != connect.CodeInvalidArgument {
		t.Errorf("admin revoke without owner: %v", err)
	}
}

func TestServiceActiveKeyLimit(t *testing.T) {
	t.Parallel()
	e := newSvcEnv(t)
	for i := range apikey.MaxActiveKeys {
		if _, err := e.client.CreateApiKey(as(t.Context(), "bob"), &apikeyv1.CreateApiKeyRequest{Name: "k", ExpireDays: 1}); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	if _, err := e.client.CreateApiKey(as(t.Context(), "bob"), &apikeyv1.CreateApiKeyRequest{Name: "k"}); code(err) != connect.CodeFailedPrecondition {
		t.Fatalf("one too many: %v", err)
	}
	e.clock.Advance(25 * 60 * 60 * 1e9) // the one-day keys expired: they no longer count
	if _, err := e.client.CreateApiKey(as(t.Context(), "bob"), &apikeyv1.CreateApiKeyRequest{Name: "k"}); err != nil {
		t.Errorf("after expiry: %v", err)
	}
}

package principal_test

import (
	"context"
	"testing"

	"github.com/portico-dev/portico/services/principal"
)

func TestAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    principal.Principal
		want string
	}{
		{"person", principal.Principal{Kind: principal.KindPerson, Username: "alice", ClientID: "portico-web"}, "alice"},
		{"machine", principal.Principal{Kind: principal.KindMachine, Username: "portico-machine", ClientID: "portico-machine"}, "client:portico-machine"},
		{"person named like a client", principal.Principal{Kind: principal.KindPerson, Username: "portico-machine"}, "portico-machine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.p.Account(); got != tt.want {
				t.Errorf("Account() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	if _, ok := principal.FromContext(context.Background()); ok {
		t.Fatal("empty context carries a principal")
	}
	p := &principal.Principal{Username: "alice", Groups: []string{"Administrators", "MLUsers"}, Scopes: []string{"openid"}}
	got, ok := principal.FromContext(principal.NewContext(context.Background(), p))
	if !ok || got != p {
		t.Fatalf("FromContext = %v, %v; want the principal", got, ok)
	}
	if !got.InGroup("MLUsers") || got.InGroup("Sales") || !got.HasScope("openid") || got.HasScope("email") {
		t.Error("InGroup/HasScope disagree with the sorted sets")
	}
}

func TestClientIn(t *testing.T) {
	t.Parallel()
	with := func(clientID string) context.Context {
		return principal.NewContext(context.Background(), &principal.Principal{Username: "alice", ClientID: clientID})
	}
	tests := []struct {
		name string
		ctx  context.Context
		ids  []string
		want bool
	}{
		{"the BFF's token", with("portico-web"), []string{"portico-web"}, true},
		{"one of several BFFs", with("portico-web-2"), []string{"portico-web", "portico-web-2"}, true},
		{"another client's token", with("portico-machine"), []string{"portico-web"}, false},
		{"no principal", context.Background(), []string{"portico-web"}, false},
		{"a nil principal", principal.NewContext(context.Background(), nil), []string{""}, false},
		{"no trusted clients", with("portico-web"), nil, false},
		{"an empty client id is not trusted by default", with(""), []string{"portico-web"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := principal.ClientIn(tt.ids...)(tt.ctx); got != tt.want {
				t.Errorf("ClientIn(%q) = %v, want %v", tt.ids, got, tt.want)
			}
		})
	}
}

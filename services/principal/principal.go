// Package principal holds the verified caller of a request and carries it in a context.
package principal

import (
	"context"
	"slices"
	"time"
)

// Kind tells people from programs.
type Kind int

const (
	// KindPerson is a person signed in through the identity provider.
	KindPerson Kind = iota + 1
	// KindMachine is a machine client using the client-credentials grant.
	KindMachine
)

// String returns "person" or "machine".
func (k Kind) String() string {
	switch k {
	case KindPerson:
		return "person"
	case KindMachine:
		return "machine"
	default:
		return "unknown"
	}
}

// Principal is a caller whose access token has been verified.
type Principal struct {
	// Subject is the token's stable subject identifier (`sub`).
	Subject string
	// Username is the Cognito user name; for a machine client, its client id.
	Username string
	// Email, DisplayName and Department are shared by the identity provider when known.
	Email       string
	DisplayName string
	Department  string
	// Groups are the caller's groups (`cognito:groups`), sorted.
	Groups []string
	// Kind is person or machine.
	Kind Kind
	// ClientID is the OAuth client the token was issued to.
	ClientID string
	// Scopes are the OAuth scopes granted to the token, sorted.
	Scopes []string
	// ExpiresAt is when the access token expires.
	ExpiresAt time.Time
	// TokenID is the token's `jti`, when present.
	TokenID string
	// APIKey is the prefix of the personal API key the caller authenticated with (package
	// apikey); empty for sign-in and client-credentials tokens. Such a principal is the key's
	// owner, a person, with the groups of the owner's last sign-in.
	APIKey string
	// KeyModels, for an API key limited to some models, are those models, sorted; empty
	// means every model the owner may use.
	KeyModels []string
}

// InGroup reports whether the principal belongs to group.
func (p *Principal) InGroup(group string) bool {
	_, ok := slices.BinarySearch(p.Groups, group)
	return ok
}

// HasScope reports whether the principal's token grants scope.
func (p *Principal) HasScope(scope string) bool {
	_, ok := slices.BinarySearch(p.Scopes, scope)
	return ok
}

type contextKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, contextKey{}, p)
}

// FromContext returns the principal carried by ctx, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(contextKey{}).(*Principal)
	return p, ok && p != nil
}

// ClientIn returns a test of whether ctx carries a principal whose token was issued to one of
// the OAuth clients ids (such as the BFF's, PORTICO_BFF_CLIENT_IDS); with no ids it trusts
// nobody. The services hand it to server.WithTrustedCaller.
func ClientIn(ids ...string) func(ctx context.Context) bool {
	ids = slices.Clone(ids)
	return func(ctx context.Context) bool {
		p, ok := FromContext(ctx)
		return ok && slices.Contains(ids, p.ClientID)
	}
}

// MachineAccountPrefix starts the account of every machine client, so that a person whose
// user name happens to equal a client id never shares that client's quotas or usage.
const MachineAccountPrefix = "client:"

// Account returns the name usage is counted, limited and reported under: the user name for a
// person, and MachineAccountPrefix followed by the client id for a machine client.
func (p *Principal) Account() string {
	if p.Kind == KindMachine {
		return MachineAccountPrefix + p.ClientID
	}
	return p.Username
}

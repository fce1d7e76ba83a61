package token

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portico-dev/portico/services/principal"
)

// A Profile checks the claims that differ between identity providers and maps verified claims
// to a principal. The Verifier has already checked the signature, iss, exp, nbf and iat.
//
// Cognito is the profile Portico uses; Entra is the profile of access tokens issued directly
// by Microsoft Entra ID, which identify the API by aud instead of client_id and token_use.
type Profile interface {
	// Principal checks c and returns the caller it names, or an error wrapping one of the
	// package's sentinel errors.
	Principal(c *Claims) (*principal.Principal, error)
}

// Cognito is the profile of Amazon Cognito user-pool access tokens: token_use must be
// "access", client_id one of ClientIDs; groups come from cognito:groups and scopes from scope.
//
// A token with a username claim is a person's. A token without one whose sub equals its
// client_id is a machine client's (client-credentials grant); its groups are ignored, since
// policy grants machine clients access through scopes only. Anything else is refused.
type Cognito struct {
	// ClientIDs are the app clients whose tokens are accepted.
	ClientIDs []string
}

// Principal implements Profile.
func (c Cognito) Principal(cl *Claims) (*principal.Principal, error) {
	if cl.TokenUse != "access" {
		return nil, fmt.Errorf("%w: %q", ErrTokenUse, cl.TokenUse)
	}
	if cl.ClientID == "" || !slices.Contains(c.ClientIDs, cl.ClientID) {
		return nil, fmt.Errorf("%w: %q", ErrClientID, cl.ClientID)
	}
	if cl.Subject == "" {
		return nil, fmt.Errorf("%w: no sub", ErrSubject)
	}
	p := &principal.Principal{
		Subject:  cl.Subject,
		ClientID: cl.ClientID,
		Scopes:   sortedSet(strings.Fields(cl.Scope)),
		TokenID:  cl.ID,
	}
	if cl.Expiry != nil {
		p.ExpiresAt = cl.Expiry.Time
	}
	switch {
	case strings.HasPrefix(cl.Username, principal.MachineAccountPrefix):
		// Usage is counted under "client:<id>" for machine clients; a person named like one
		// would share its quotas.
		return nil, fmt.Errorf("%w: username %q uses the machine-account prefix", ErrSubject, cl.Username)
	case cl.Username != "":
		p.Kind = principal.KindPerson
		p.Username = cl.Username
		p.Groups = sortedSet(cl.Groups)
		p.Email = cl.Email
		p.DisplayName = cl.Name
		p.Department = cl.Department
	case cl.Subject == cl.ClientID:
		p.Kind = principal.KindMachine
		p.Username = cl.ClientID
	default:
		return nil, fmt.Errorf("%w: no username and sub %q is not the client_id", ErrSubject, cl.Subject)
	}
	return p, nil
}

// sortedSet returns s sorted without duplicates or empty strings, or nil when nothing is left.
func sortedSet(s []string) []string {
	out := slices.DeleteFunc(slices.Clone(s), func(v string) bool { return v == "" })
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}

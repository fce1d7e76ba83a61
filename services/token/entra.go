package token

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portico-dev/portico/services/principal"
)

// EntraVersion is the only access-token version (ver) the Entra profile accepts: v2.0, the
// version of tokens for an API whose manifest says requestedAccessTokenVersion 2.
const EntraVersion = "2.0"

// Entra is the profile of Microsoft Entra ID v2.0 access tokens issued for Portico's API.
// The Verifier has checked iss exactly (https://login.microsoftonline.com/<tenant>/v2.0 for
// a tenant, never a multi-tenant template); the profile then requires, in this order:
//
//   - ver "2.0" (a v1.0 token has another issuer and other claims: ErrVersion);
//   - tid equal to TenantID (ErrTenant);
//   - aud naming Audience, the API's client id or application id URI, whichever its tokens
//     carry (an ID token's aud is the signing-in app: ErrAudience);
//   - azp, the calling app, one of ClientIDs when set (v1's appid is not read; an ID token
//     names no azp: ErrClientID);
//   - oid, the user's or service principal's stable object id, which becomes the
//     principal's Subject (sub is pairwise per app, so not used as the id: ErrSubject).
//
// A token with scp is a person's (delegated): scp must hold Scope when set (ErrScope), its
// user name is preferred_username, and its groups are its app roles (roles) plus the names
// GroupIDs gives its group object ids (groups). A group id GroupIDs does not map, or the
// groups-overage claim (_claim_names naming groups, or hasgroups) that Entra sends instead
// of a long groups list, is refused with ErrGroups: assign groups to the application and
// map each one in the policy's groupIds. A token without scp is an application's (client
// credentials, idtyp "app" when that optional claim is on): a machine client named by azp
// whose scopes are its application permissions (roles).
type Entra struct {
	// TenantID is the tenant (tid) whose tokens are accepted. Required.
	TenantID string
	// Audience is the API's identifier that aud must contain. Required.
	Audience string
	// ClientIDs, when not empty, are the calling apps (azp) accepted.
	ClientIDs []string
	// Scope, when set, must be among a delegated token's scp (e.g. "access" for the API's
	// api://<app>/access).
	Scope string
	// GroupIDs maps group object ids, in lower case, to Portico group names (the policy's
	// groupIds).
	GroupIDs map[string]string
	// GroupLookup, when set, replaces GroupIDs: it maps a lower-case group object id to its
	// group name at each verification, so that a policy changed at run time maps the ids of
	// the policy in force.
	GroupLookup GroupLookup
}

// GroupLookup maps an Entra group object id (lower case) to a Portico group name.
type GroupLookup func(objectID string) (name string, ok bool)

// Principal implements Profile.
func (e Entra) Principal(c *Claims) (*principal.Principal, error) {
	if c.Version != EntraVersion {
		return nil, fmt.Errorf("%w: ver %q, want %q (set the API's requestedAccessTokenVersion to 2)", ErrVersion, c.Version, EntraVersion)
	}
	if e.TenantID == "" || c.TenantID != e.TenantID {
		return nil, fmt.Errorf("%w: tid %q", ErrTenant, c.TenantID)
	}
	if e.Audience == "" || !c.Audience.Contains(e.Audience) {
		return nil, fmt.Errorf("%w: %q", ErrAudience, []string(c.Audience))
	}
	client := c.AuthorizedParty
	if client == "" {
		// Access tokens name the calling app; ID tokens (aud is the app itself) do not.
		return nil, fmt.Errorf("%w: no azp (not a v2 access token)", ErrClientID)
	}
	if len(e.ClientIDs) > 0 && !slices.Contains(e.ClientIDs, client) {
		return nil, fmt.Errorf("%w: %q", ErrClientID, client)
	}
	if c.ObjectID == "" {
		return nil, fmt.Errorf("%w: no oid", ErrSubject)
	}
	p := &principal.Principal{Subject: c.ObjectID, ClientID: client, TokenID: c.ID}
	if c.Expiry != nil {
		p.ExpiresAt = c.Expiry.Time
	}
	if c.DelegatedScope != "" {
		scopes := sortedSet(strings.Fields(c.DelegatedScope))
		if e.Scope != "" && !slices.Contains(scopes, e.Scope) {
			return nil, fmt.Errorf("%w: scp %q lacks %q", ErrScope, c.DelegatedScope, e.Scope)
		}
		if c.PreferredUsername == "" {
			return nil, fmt.Errorf("%w: delegated token without preferred_username", ErrSubject)
		}
		if strings.HasPrefix(c.PreferredUsername, principal.MachineAccountPrefix) {
			return nil, fmt.Errorf("%w: username %q uses the machine-account prefix", ErrSubject, c.PreferredUsername)
		}
		groups, err := e.groups(c)
		if err != nil {
			return nil, err
		}
		p.Kind = principal.KindPerson
		p.Username = c.PreferredUsername
		p.Email = c.Email
		p.DisplayName = c.Name
		p.Department = c.Department
		p.Groups = groups
		p.Scopes = scopes
		return p, nil
	}
	if c.TokenType != "" && c.TokenType != "app" {
		return nil, fmt.Errorf("%w: idtyp %q without scp", ErrSubject, c.TokenType)
	}
	if c.TokenType == "" && c.Subject != c.ObjectID {
		// idtyp is an optional claim; without it an app-only token is the one whose sub is
		// the app's own object id. A person's token without scp is never a machine's.
		return nil, fmt.Errorf("%w: no scp, no idtyp=app, and sub is not oid (not an application token)", ErrSubject)
	}
	p.Kind = principal.KindMachine
	p.Username = client
	p.Scopes = sortedSet(c.Roles)
	return p, nil
}

// groups returns a person's app roles plus the mapped names of their group object ids.
func (e Entra) groups(c *Claims) ([]string, error) {
	if _, overage := c.ClaimNames["groups"]; overage || c.HasGroups != nil {
		return nil, fmt.Errorf("%w: groups overage (the user is in more groups than a token holds): assign groups to the application in Entra ID and send only those", ErrGroups)
	}
	out := slices.Clone(c.Roles)
	for _, id := range c.EntraGroups {
		var name string
		var ok bool
		if e.GroupLookup != nil {
			name, ok = e.GroupLookup(strings.ToLower(id))
		} else {
			name, ok = e.GroupIDs[strings.ToLower(id)]
		}
		if !ok {
			return nil, fmt.Errorf("%w: group object id %q is not mapped to a group in the policy's groupIds", ErrGroups, id)
		}
		out = append(out, name)
	}
	return sortedSet(out), nil
}

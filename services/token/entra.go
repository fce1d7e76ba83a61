package token

import (
	"fmt"
	"slices"
	"strings"

	"github.com/portico-dev/portico/services/principal"
)

// Entra is the profile of access tokens that Microsoft Entra ID issues for Portico's API (the
// issuer is then https://login.microsoftonline.com/<tenant>/v2.0). Such tokens carry aud (the
// API's application id URI or client id) and the calling app in azp (v2) or appid (v1).
//
// A token with scp (delegated scopes) is a person's: its user name is preferred_username, its
// groups are its app roles (roles) plus any groups claim — assign groups to the app and name
// app roles after Portico's groups, since Entra sends group GUIDs and drops the groups claim
// for users in too many groups. A token without scp is an application's (client credentials):
// a machine client whose scopes are its application permissions (roles).
//
// A token that names no calling app (no azp, no appid) is refused whatever ClientIDs says:
// that is the shape of an Entra ID token, whose roles must never become a machine's scopes.
// A person's token without preferred_username is refused too, since usage is counted per
// user name.
type Entra struct {
	// Audience is the API's identifier that aud must contain.
	Audience string
	// ClientIDs, when not empty, are the calling apps (azp or appid) accepted.
	ClientIDs []string
}

// Principal implements Profile.
func (e Entra) Principal(c *Claims) (*principal.Principal, error) {
	if e.Audience == "" || !c.Audience.Contains(e.Audience) {
		return nil, fmt.Errorf("%w: %q", ErrAudience, []string(c.Audience))
	}
	client := c.AuthorizedParty
	if client == "" {
		client = c.AppID
	}
	if client == "" {
		// Access tokens name the calling app; ID tokens (aud is the app itself) do not.
		return nil, fmt.Errorf("%w: no azp or appid (not an access token)", ErrClientID)
	}
	if len(e.ClientIDs) > 0 && !slices.Contains(e.ClientIDs, client) {
		return nil, fmt.Errorf("%w: %q", ErrClientID, client)
	}
	if c.Subject == "" {
		return nil, fmt.Errorf("%w: no sub", ErrSubject)
	}
	p := &principal.Principal{Subject: c.Subject, ClientID: client, TokenID: c.ID}
	if c.Expiry != nil {
		p.ExpiresAt = c.Expiry.Time
	}
	if c.DelegatedScope != "" {
		if c.PreferredUsername == "" {
			return nil, fmt.Errorf("%w: delegated token without preferred_username", ErrSubject)
		}
		if strings.HasPrefix(c.PreferredUsername, principal.MachineAccountPrefix) {
			return nil, fmt.Errorf("%w: username %q uses the machine-account prefix", ErrSubject, c.PreferredUsername)
		}
		p.Kind = principal.KindPerson
		p.Username = c.PreferredUsername
		p.Email = c.Email
		p.DisplayName = c.Name
		p.Groups = sortedSet(append(slices.Clone(c.Roles), c.EntraGroups...))
		p.Scopes = sortedSet(strings.Fields(c.DelegatedScope))
		return p, nil
	}
	if c.TokenType != "" && c.TokenType != "app" {
		return nil, fmt.Errorf("%w: idtyp %q without scp", ErrSubject, c.TokenType)
	}
	p.Kind = principal.KindMachine
	p.Username = client
	p.Scopes = sortedSet(c.Roles)
	return p, nil
}

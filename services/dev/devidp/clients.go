package devidp

import (
	"crypto/sha256"
	"crypto/subtle"
	"slices"
)

// client is an OAuth client registered with the provider.
type client struct {
	id           string
	secret       string
	grants       []string
	scopes       []string // allowed scopes, in the order they appear in tokens (Entra mode: the machine's app roles)
	redirectURIs []string
	logoutURIs   []string
	requirePKCE  bool
}

func devClients(redirectURIs, logoutURIs []string, entra *entraConfig) map[string]*client {
	webScopes := []string{"openid", "email", "profile"}
	if entra != nil {
		webScopes = append(webScopes, ScopeOfflineAccess, entra.audience+"/access")
	}
	return map[string]*client{
		WebClientID: {
			id:           WebClientID,
			secret:       WebClientSecret,
			grants:       []string{"authorization_code", "refresh_token"},
			scopes:       webScopes,
			redirectURIs: slices.Clone(redirectURIs),
			logoutURIs:   slices.Clone(logoutURIs),
			requirePKCE:  true,
		},
		MachineClientID: {
			id:     MachineClientID,
			secret: MachineClientSecret,
			grants: []string{"client_credentials"},
			scopes: []string{ScopeInference, ScopeIdentity},
		},
	}
}

// secretMatches compares secret with the client's in constant time. Both are hashed first:
// subtle.ConstantTimeCompare returns at once on a length mismatch, which would tell the
// secret's length.
func (c *client) secretMatches(secret string) bool {
	got, want := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(c.secret))
	return c.secret != "" && subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

func (c *client) allows(grant string) bool { return slices.Contains(c.grants, grant) }

// grantScopes returns the requested scopes in the client's order, all allowed scopes when
// none were requested, and ok=false when any requested scope is not allowed.
func (c *client) grantScopes(requested []string) (granted []string, ok bool) {
	if len(requested) == 0 {
		return slices.Clone(c.scopes), true
	}
	for _, s := range requested {
		if !slices.Contains(c.scopes, s) {
			return nil, false
		}
	}
	for _, s := range c.scopes {
		if slices.Contains(requested, s) {
			granted = append(granted, s)
		}
	}
	return granted, true
}

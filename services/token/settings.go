package token

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Profile names, as configured (PORTICO_TOKEN_PROFILE).
const (
	// ProfileCognito selects Cognito (the default).
	ProfileCognito = "cognito"
	// ProfileEntra selects Entra.
	ProfileEntra = "entra"
)

// Settings are a token profile as the services and the authorizer configure it.
type Settings struct {
	// Profile is ProfileCognito (also when empty) or ProfileEntra.
	Profile string
	// ClientIDs are Cognito's accepted client_id values, or Entra's accepted azp values.
	ClientIDs []string
	// TenantID, Audience and Scope configure Entra (see Entra); TenantID and Audience are
	// required for it.
	TenantID, Audience, Scope string
}

// SettingNames name the settings in Check's messages (the environment variables).
type SettingNames struct {
	Profile, Issuer, TenantID, Audience, Scope string
}

// guid is an Entra tenant id.
var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Check returns every problem of s for tokens whose iss is issuer. For Entra the issuer must
// be the tenant's v2.0 issuer exactly (…/<TenantID>/v2.0): never a multi-tenant alias or
// template, never a v1.0 issuer.
func (s Settings) Check(issuer string, n SettingNames) []error {
	var errs []error
	switch s.Profile {
	case "", ProfileCognito:
		for name, v := range map[string]string{n.TenantID: s.TenantID, n.Audience: s.Audience, n.Scope: s.Scope} {
			if v != "" {
				errs = append(errs, fmt.Errorf("%s applies to %s=%s only", name, n.Profile, ProfileEntra))
			}
		}
	case ProfileEntra:
		if !guid.MatchString(s.TenantID) {
			errs = append(errs, fmt.Errorf("%s=%q: want the tenant id, a lower-case GUID", n.TenantID, s.TenantID))
		}
		if s.Audience == "" {
			errs = append(errs, fmt.Errorf("%s is required with %s=%s: the API app's client id (the aud of its v2.0 tokens)", n.Audience, n.Profile, ProfileEntra))
		}
		if strings.ContainsAny(s.Scope, " \t/") {
			errs = append(errs, fmt.Errorf("%s=%q: want the scope's value as scp carries it (e.g. access), not the full api://… name", n.Scope, s.Scope))
		}
		u, err := url.Parse(issuer)
		if issuer != "" && (err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			s.TenantID == "" || !strings.HasSuffix(u.Path, "/"+s.TenantID+"/v2.0") || u.RawQuery != "" || u.Fragment != "") {
			errs = append(errs, fmt.Errorf("%s=%q: with %s=%s it must be the tenant's v2.0 issuer, https://login.microsoftonline.com/%s/v2.0", n.Issuer, issuer, n.Profile, ProfileEntra, s.TenantID))
		}
	default:
		errs = append(errs, fmt.Errorf("%s=%q: want %s or %s", n.Profile, s.Profile, ProfileCognito, ProfileEntra))
	}
	return errs
}

// Build returns the configured Profile; groups maps Entra group object ids to group names
// (the groupIds of the policy in force, looked up at each verification). Call Check first.
func (s Settings) Build(groups GroupLookup) Profile {
	if s.Profile == ProfileEntra {
		return Entra{TenantID: s.TenantID, Audience: s.Audience, ClientIDs: s.ClientIDs, Scope: s.Scope, GroupLookup: groups}
	}
	return Cognito{ClientIDs: s.ClientIDs}
}

package oidcflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// discovery is the part of the provider's metadata the flow uses.
type discovery struct {
	Issuer           string   `json:"issuer"`
	AuthorizationURL string   `json:"authorization_endpoint"`
	TokenURL         string   `json:"token_endpoint"`
	JWKSURL          string   `json:"jwks_uri"`
	UserInfoURL      string   `json:"userinfo_endpoint"`
	RevocationURL    string   `json:"revocation_endpoint"`
	EndSessionURL    string   `json:"end_session_endpoint"`
	SigningAlgs      []string `json:"id_token_signing_alg_values_supported"`
}

// provider is a discovered OpenID provider.
//
// A provider whose discovery document has no end_session_endpoint and whose authorization
// endpoint is Cognito's …/oauth2/authorize is taken to be Amazon Cognito (or the
// Cognito-shaped dev IdP): it gets the identity_provider hint, Cognito's /logout and, when
// it advertises none, Cognito's /oauth2/revoke. Any other provider is standard: RP-initiated
// logout through end_session_endpoint when it has one (else the sign-out is Portico's
// alone), revocation only when advertised, and no Cognito parameter.
type provider struct {
	meta      discovery
	oauth     oauth2.Config
	verifier  *oidc.IDTokenVerifier
	revokeURL string // empty: the provider revokes nothing
	logoutURL string // Cognito's /logout, or end_session_endpoint (empty: none)
	cognito   bool
	// issuerTemplate is Entra's multi-tenant issuer (with "{tenantid}"), when the configured
	// issuer is a multi-tenant alias; ID tokens are then checked against it and
	// Config.AllowedTenants instead of the configured issuer.
	issuerTemplate string
}

// tenantPlaceholder is the tenant placeholder in Entra's multi-tenant discovery issuer.
const tenantPlaceholder = "{tenantid}"

// multiTenantAliases are the tenant path segments of Entra's multi-tenant issuers.
var multiTenantAliases = []string{"common", "organizations"}

// providers discovers the provider on first use and again at every sign-in, keeping the
// verifier (and its JWKS cache) while the metadata stays the same.
type providers struct {
	cfg *Config

	mu      sync.Mutex
	current *provider
}

// get returns the cached provider, discovering it when there is none.
func (p *providers) get(ctx context.Context) (*provider, error) {
	p.mu.Lock()
	cur := p.current
	p.mu.Unlock()
	if cur != nil {
		return cur, nil
	}
	return p.discover(ctx)
}

// discover fetches the metadata and returns the provider it describes.
func (p *providers) discover(ctx context.Context) (*provider, error) {
	meta, err := p.fetch(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current != nil && p.current.meta.equal(meta) {
		return p.current, nil
	}
	cfg := p.cfg
	// The key set keeps this context for its later JWKS fetches: it must outlive the request
	// (no cancellation, no deadline).
	keyCtx := oidc.ClientContext(context.WithoutCancel(ctx), cfg.HTTPClient)
	pc := oidc.ProviderConfig{
		IssuerURL:   meta.Issuer,
		AuthURL:     meta.AuthorizationURL,
		TokenURL:    meta.TokenURL,
		JWKSURL:     meta.JWKSURL,
		UserInfoURL: meta.UserInfoURL,
		Algorithms:  meta.SigningAlgs,
	}
	op := pc.NewProvider(keyCtx)
	base := cognitoBase(meta.AuthorizationURL)
	template := ""
	if meta.Issuer != cfg.Issuer {
		template = meta.Issuer // fetch accepted it only as the multi-tenant template
	}
	np := &provider{
		meta: meta,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: meta.AuthorizationURL, TokenURL: meta.TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
			RedirectURL:  cfg.PublicURL + "/auth/callback",
			Scopes:       cfg.Scopes,
		},
		// With a multi-tenant template the issuer is checked in verifyIDToken, exactly: the
		// template with the token's own tid, which must be an allowed tenant.
		verifier:       op.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: cfg.Now, SkipIssuerCheck: template != ""}),
		revokeURL:      meta.RevocationURL,
		logoutURL:      meta.EndSessionURL,
		cognito:        isCognito(meta, base),
		issuerTemplate: template,
	}
	if np.cognito {
		np.logoutURL = base + "/logout"
		if np.revokeURL == "" {
			np.revokeURL = base + "/oauth2/revoke" // Cognito does not advertise it
		}
	}
	p.current = np
	return np, nil
}

// isCognito reports whether discovery describes an Amazon Cognito user pool's domain: its
// authorize endpoint is <domain>/oauth2/authorize and its end_session_endpoint, when it
// advertises one (real pools have since 2024), is <domain>/logout — Cognito's own logout,
// which takes client_id and logout_uri rather than RP-initiated logout's parameters.
func isCognito(meta discovery, base string) bool {
	return strings.HasSuffix(meta.AuthorizationURL, "/oauth2/authorize") &&
		(meta.EndSessionURL == "" || meta.EndSessionURL == base+"/logout")
}

func (p *providers) fetch(ctx context.Context) (discovery, error) {
	var meta discovery
	wellKnown := strings.TrimSuffix(p.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return meta, fmt.Errorf("discovery: %w", err)
	}
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return meta, fmt.Errorf("discovery: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return meta, fmt.Errorf("discovery: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return meta, fmt.Errorf("discovery: %s", resp.Status)
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return meta, fmt.Errorf("discovery: %w", err)
	}
	if err := checkIssuer(meta.Issuer, p.cfg.Issuer, p.cfg.AllowedTenants); err != nil {
		return meta, fmt.Errorf("discovery: %w", err)
	}
	if meta.AuthorizationURL == "" || meta.TokenURL == "" || meta.JWKSURL == "" {
		return meta, fmt.Errorf("discovery: authorization, token or jwks endpoint missing")
	}
	return meta, nil
}

func (d discovery) equal(o discovery) bool {
	return d.Issuer == o.Issuer && d.AuthorizationURL == o.AuthorizationURL && d.TokenURL == o.TokenURL &&
		d.JWKSURL == o.JWKSURL && d.RevocationURL == o.RevocationURL && d.UserInfoURL == o.UserInfoURL &&
		d.EndSessionURL == o.EndSessionURL &&
		strings.Join(d.SigningAlgs, " ") == strings.Join(o.SigningAlgs, " ")
}

// cognitoBase returns the base of Cognito's hosted endpoints (the user pool domain), which
// differs from the issuer: the authorization endpoint without its "/oauth2/authorize".
func cognitoBase(authURL string) string {
	if base, ok := strings.CutSuffix(authURL, "/oauth2/authorize"); ok {
		return base
	}
	u, err := url.Parse(authURL)
	if err != nil {
		return authURL
	}
	return u.Scheme + "://" + u.Host
}

// checkIssuer accepts the discovery document's issuer when it is exactly the configured one,
// or when the configured issuer is an Entra multi-tenant alias (…/common/v2.0,
// …/organizations/v2.0) whose discovery names the template …/{tenantid}/v2.0 in its place
// and tenants lists the tenants allowed to sign in. Nothing else passes: no prefix match, no
// placeholder anywhere else, no multi-tenant issuer without a tenant list.
func checkIssuer(discovered, configured string, tenants []string) error {
	if discovered == configured {
		return nil
	}
	if strings.Count(discovered, tenantPlaceholder) == 1 {
		for _, alias := range multiTenantAliases {
			if strings.Replace(discovered, tenantPlaceholder, alias, 1) == configured {
				if len(tenants) == 0 {
					return fmt.Errorf("issuer %q is multi-tenant: name the tenants allowed to sign in", discovered)
				}
				return nil
			}
		}
	}
	return fmt.Errorf("issuer %q, want %q", discovered, configured)
}

// tenantIssuer checks a multi-tenant ID token's issuer: iss must be the template with the
// token's tid in place, and tid one of tenants.
func tenantIssuer(template, iss, tid string, tenants []string) error {
	switch {
	case tid == "":
		return errors.New("ID token has no tid")
	case !slices.Contains(tenants, tid):
		return fmt.Errorf("tenant %q may not sign in", tid)
	case iss != strings.Replace(template, tenantPlaceholder, tid, 1):
		return fmt.Errorf("ID token issuer %q is not tenant %q's", iss, tid)
	}
	return nil
}

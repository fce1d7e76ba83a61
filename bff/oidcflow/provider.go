package oidcflow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	SigningAlgs      []string `json:"id_token_signing_alg_values_supported"`
}

// provider is a discovered OpenID provider.
type provider struct {
	meta      discovery
	oauth     oauth2.Config
	verifier  *oidc.IDTokenVerifier
	revokeURL string
	logoutURL string
}

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
	np := &provider{
		meta: meta,
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: meta.AuthorizationURL, TokenURL: meta.TokenURL, AuthStyle: oauth2.AuthStyleInHeader},
			RedirectURL:  cfg.PublicURL + "/auth/callback",
			Scopes:       cfg.Scopes,
		},
		verifier:  op.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: cfg.Now}),
		revokeURL: meta.RevocationURL,
		logoutURL: base + "/logout",
	}
	if np.revokeURL == "" {
		np.revokeURL = base + "/oauth2/revoke" // Cognito does not advertise it
	}
	p.current = np
	return np, nil
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
	if meta.Issuer != p.cfg.Issuer {
		return meta, fmt.Errorf("discovery: issuer %q, want %q", meta.Issuer, p.cfg.Issuer)
	}
	if meta.AuthorizationURL == "" || meta.TokenURL == "" || meta.JWKSURL == "" {
		return meta, fmt.Errorf("discovery: authorization, token or jwks endpoint missing")
	}
	return meta, nil
}

func (d discovery) equal(o discovery) bool {
	return d.Issuer == o.Issuer && d.AuthorizationURL == o.AuthorizationURL && d.TokenURL == o.TokenURL &&
		d.JWKSURL == o.JWKSURL && d.RevocationURL == o.RevocationURL && d.UserInfoURL == o.UserInfoURL &&
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

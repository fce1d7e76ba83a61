package oidcflow

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/portico-dev/portico/bff/cookie"
	"github.com/portico-dev/portico/bff/session"
)

// Defaults of Config's optional settings.
const (
	// DefaultRefreshSkew refreshes access tokens that expire within this window.
	DefaultRefreshSkew = 60 * time.Second
	// DefaultMaxSessionLifetime bounds a session's absolute lifetime.
	DefaultMaxSessionLifetime = 12 * time.Hour
	// DefaultRefreshTokenLifetime is the refresh token's lifetime when the provider does not
	// say (Cognito's default app-client setting).
	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour
	// LoginCookieLifetime bounds the time between /auth/login and /auth/callback.
	LoginCookieLifetime = 10 * time.Minute
)

// Config configures a Flow.
type Config struct {
	// Issuer is the OpenID provider's issuer URL.
	Issuer string
	// ClientID and ClientSecret are the BFF's confidential client.
	ClientID, ClientSecret string
	// PublicURL is the origin users see, without a trailing slash; the callback is
	// PublicURL + "/auth/callback" and the logout_uri PublicURL + "/".
	PublicURL string
	// IdentityProvider, when set, is sent as Cognito's identity_provider parameter so users
	// go straight to their corporate sign-in (Entra ID). It is sent to Cognito only (a
	// provider without end_session_endpoint), never to a standard provider.
	IdentityProvider string
	// BreakGlassGroup, when set, offers local Cognito users a sign-in that skips
	// IdentityProvider — GET /auth/login?idp=local sends identity_provider=COGNITO — and
	// admits a user without a federated identity (no identities claim in the ID token) only
	// when cognito:groups holds this group, however the sign-in was started. Empty:
	// ?idp=local is refused and local users are treated as today.
	BreakGlassGroup string
	// AllowedTenants are the Entra tenant ids (tid) that may sign in. Required when Issuer
	// is an Entra multi-tenant alias (…/common/v2.0 or …/organizations/v2.0); when set with
	// any other issuer, an ID token's tid must be one of them too.
	AllowedTenants []string
	// Scopes requested at sign-in; nil means openid, email and profile. Entra ID needs
	// offline_access (for a refresh token) and the API's scope (api://<app>/<scope>, for an
	// access token meant for Portico's API).
	Scopes []string
	// Sessions keeps the signed-in sessions.
	Sessions *session.Manager
	// LoginCodec seals the short-lived login-state cookie.
	LoginCodec *cookie.Codec
	// HTTPClient calls the provider; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// RefreshSkew, MaxSessionLifetime and RefreshTokenLifetime default to the constants above.
	RefreshSkew, MaxSessionLifetime, RefreshTokenLifetime time.Duration
	// Logger receives structured logs; they never contain tokens or cookies.
	Logger *slog.Logger
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// LoginCookieName is the name of the login-state cookie.
const LoginCookieName = "__Host-portico-login"

// LogoutCookieName is the name of the cookie that carries an RP-initiated logout's state
// from POST /auth/logout to GET /auth/signed-out.
const LogoutCookieName = "__Host-portico-logout"

// Flow serves /auth/login, /auth/callback, /auth/logout, /auth/signed-out and /auth/session, and authorizes
// proxied calls. Create it with New.
type Flow struct {
	cfg       Config
	providers *providers
	loginJar  *cookie.Jar
	logoutJar *cookie.Jar
	refreshes singleflight.Group
	recent    recentRefreshes
}

// New returns a Flow. It does not contact the provider: discovery happens on first use, so
// the BFF starts (and shows a friendly page) while the provider is down.
func New(cfg Config) (*Flow, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("oidcflow: issuer is required")
	case cfg.ClientID == "" || cfg.ClientSecret == "":
		return nil, errors.New("oidcflow: client id and secret are required")
	case cfg.PublicURL == "":
		return nil, errors.New("oidcflow: public URL is required")
	case cfg.Sessions == nil || cfg.LoginCodec == nil:
		return nil, errors.New("oidcflow: session manager and login codec are required")
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	if cfg.Scopes == nil {
		cfg.Scopes = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.RefreshSkew <= 0 {
		cfg.RefreshSkew = DefaultRefreshSkew
	}
	if cfg.MaxSessionLifetime <= 0 {
		cfg.MaxSessionLifetime = DefaultMaxSessionLifetime
	}
	if cfg.RefreshTokenLifetime <= 0 {
		cfg.RefreshTokenLifetime = DefaultRefreshTokenLifetime
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	f := &Flow{
		cfg:       cfg,
		loginJar:  &cookie.Jar{Codec: cfg.LoginCodec, Name: LoginCookieName, SameSite: http.SameSiteLaxMode},
		logoutJar: &cookie.Jar{Codec: cfg.LoginCodec, Name: LogoutCookieName, SameSite: http.SameSiteLaxMode},
	}
	f.providers = &providers{cfg: &f.cfg}
	return f, nil
}

// clientContext carries the provider HTTP client for oauth2 and go-oidc.
func (f *Flow) clientContext(ctx context.Context) context.Context {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, f.cfg.HTTPClient)
	return oidc.ClientContext(ctx, f.cfg.HTTPClient)
}

// Package config reads the BFF's settings from the environment (docs/contracts.md).
package config

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/portico-dev/portico/bff/cookie"
	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/runmode"
)

// Environment variables.
//
//nolint:gosec // names of environment variables, not credentials
const (
	EnvAddr               = "PORTICO_BFF_ADDR"
	EnvPublicURL          = "PORTICO_PUBLIC_URL"
	EnvIssuer             = "PORTICO_OIDC_ISSUER"
	EnvClientID           = "PORTICO_OIDC_CLIENT_ID"
	EnvClientSecret       = "PORTICO_OIDC_CLIENT_SECRET"
	EnvClientSecretARN    = "PORTICO_OIDC_CLIENT_SECRET_ARN"
	EnvIdentityProvider   = "PORTICO_OIDC_IDENTITY_PROVIDER"
	EnvScopes             = "PORTICO_OIDC_SCOPES"
	EnvBreakGlassGroup    = "PORTICO_OIDC_BREAK_GLASS_GROUP"
	EnvAllowedTenants     = "PORTICO_OIDC_ALLOWED_TENANTS"
	EnvCookieKeys         = "PORTICO_COOKIE_KEYS"
	EnvCookieKeysARN      = "PORTICO_COOKIE_KEYS_ARN"
	EnvServicesURL        = "PORTICO_SERVICES_URL"
	EnvSPADir             = "PORTICO_SPA_DIR"
	EnvAllowedOrigins     = "PORTICO_ALLOWED_ORIGINS"
	EnvSessionStore       = "PORTICO_SESSION_STORE"
	EnvSessionMaxLifetime = "PORTICO_SESSION_MAX_LIFETIME"
	EnvSessionIdleTimeout = "PORTICO_SESSION_IDLE_TIMEOUT"
	EnvRefreshTokenTTL    = "PORTICO_OIDC_REFRESH_TOKEN_TTL"
	EnvAPITimeout         = "PORTICO_API_TIMEOUT"
	EnvAPIMaxBodyBytes    = "PORTICO_API_MAX_BODY_BYTES"
	EnvTrustViewerAddress = "PORTICO_TRUST_CLOUDFRONT_VIEWER_ADDRESS"
	EnvMode               = runmode.Env // development | production
	EnvLogFormat          = logs.Env
	EnvRuntimeAPI         = lambdahttp.RuntimeAPIEnv
	EnvLambdaEvent        = lambdahttp.EventEnv
)

// Config is the BFF's configuration.
type Config struct {
	// Mode is development or production (PORTICO_ENV; on Lambda always production). In
	// production FromEnv uses none of the Default* values for PublicURL, Issuer, ClientID,
	// ClientSecret, ServicesURL and CookieKeys: each must be set.
	Mode runmode.Mode
	// LogFormat is the log format (PORTICO_LOG_FORMAT's one rule: text, json on Lambda).
	LogFormat logs.Format
	// Lambda says whether and how the process runs on Lambda.
	Lambda lambdahttp.Config
	// Addr is the listen address in standalone mode.
	Addr string
	// PublicURL is the origin users see, without a trailing slash.
	PublicURL string
	// Issuer, ClientID and ClientSecret describe the OpenID provider and the BFF's client.
	Issuer, ClientID, ClientSecret string
	// ClientSecretARN names a Secrets Manager secret holding the client secret; Resolve
	// fetches it.
	ClientSecretARN string
	// IdentityProvider is Cognito's identity_provider hint (empty: none); it is sent to
	// Cognito only, never to a provider with an end_session_endpoint.
	IdentityProvider string
	// Scopes are requested at sign-in (PORTICO_OIDC_SCOPES, space- or comma-separated;
	// DefaultScopes when unset). openid is required.
	Scopes []string
	// BreakGlassGroup enables /auth/login?idp=local for Cognito's local users and admits a
	// local (non-federated) user only in this group (empty: off). It needs IdentityProvider.
	BreakGlassGroup string
	// AllowedTenants are the Entra tenant ids that may sign in (comma-separated); required
	// for an Entra multi-tenant issuer (…/common/v2.0, …/organizations/v2.0).
	AllowedTenants []string
	// CookieKeys seal the cookies; the first seals. Generated when unset in development
	// (sessions end when the process does); required (or CookieKeysARN) in production.
	CookieKeys []cookie.Key
	// CookieKeysGenerated reports that CookieKeys were generated.
	CookieKeysGenerated bool
	// CookieKeysARN names a Secrets Manager secret holding the cookie keys in the
	// PORTICO_COOKIE_KEYS form; Resolve replaces generated keys with them.
	CookieKeysARN string
	// ServicesURL is where /api/ forwards.
	ServicesURL *url.URL
	// SPADir is the built Angular app.
	SPADir string
	// AllowedOrigins are origins besides PublicURL's that may call the API.
	AllowedOrigins []string
	// SessionStore is "cookie" (default: the session sealed in the cookie), or a server-side
	// store with only a ticket in the cookie: "memory" (this process), "sqlite:<path>" (one
	// machine) or "dynamodb:<table>" (every instance; the table must exist).
	SessionStore string
	// SessionMaxLifetime, SessionIdleTimeout and RefreshTokenTTL bound sessions (zero: the
	// defaults of oidcflow and session).
	SessionMaxLifetime, SessionIdleTimeout, RefreshTokenTTL time.Duration
	// APITimeout and APIMaxBodyBytes limit each proxied call (zero: proxy defaults).
	APITimeout      time.Duration
	APIMaxBodyBytes int64
	// TrustViewerAddress takes the client address for the audit trail from CloudFront's
	// CloudFront-Viewer-Address header (only behind CloudFront with origin access control).
	TrustViewerAddress bool
}

// Defaults for the dev stack. In production (Mode) the issuer, client id and secret, public
// URL, services URL and cookie keys have no default: FromEnv names each one missing.
const (
	DefaultAddr        = "localhost:8080"
	DefaultPublicURL   = "http://localhost:8080"
	DefaultIssuer      = "http://localhost:9000"
	DefaultClientID    = "portico-web"
	DefaultSecret      = "portico-dev-secret" //nolint:gosec // the dev IdP's public dev secret (DESIGN.md)
	DefaultServicesURL = "http://localhost:8081"
	DefaultSPADir      = "frontend/dist/portico/browser"
	// DefaultScopes are the scopes asked for when PORTICO_OIDC_SCOPES is unset.
	DefaultScopes = "openid email profile"
)

// FromEnv reads the configuration through getenv (os.Getenv in main). The client secret is
// left empty when only its ARN is set; call Resolve. Every problem is reported in the one
// error; in production every missing setting that has a dev default is named at once.
func FromEnv(getenv func(string) string) (*Config, error) {
	var errs []error
	c := &Config{}
	event, err := lambdahttp.ParseEvent(strings.TrimSpace(getenv(EnvLambdaEvent)))
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvLambdaEvent, err))
	}
	c.Lambda = lambdahttp.Config{RuntimeAPI: strings.TrimSpace(getenv(EnvRuntimeAPI)), Event: event}
	if c.Mode, err = runmode.Parse(getenv(EnvMode), c.Lambda.OnLambda()); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat, err = logs.ParseFormat(getenv(EnvLogFormat), c.Lambda.OnLambda()); err != nil {
		errs = append(errs, err)
	}
	prod := c.Mode.Production()
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var need runmode.Requirements
	// devDefault is get for a setting production must set explicitly.
	devDefault := func(name, def string) string {
		if prod {
			v := get(name, "")
			need.Need(name, v)
			return v
		}
		return get(name, def)
	}
	c.Addr = get(EnvAddr, DefaultAddr)
	c.PublicURL = strings.TrimSuffix(devDefault(EnvPublicURL, DefaultPublicURL), "/")
	c.Issuer = strings.TrimSuffix(devDefault(EnvIssuer, DefaultIssuer), "/")
	c.ClientID = devDefault(EnvClientID, DefaultClientID)
	c.ClientSecretARN = get(EnvClientSecretARN, "")
	c.IdentityProvider = get(EnvIdentityProvider, "")
	c.Scopes = splitFields(get(EnvScopes, DefaultScopes))
	if !slices.Contains(c.Scopes, "openid") {
		errs = append(errs, fmt.Errorf("%s=%q: must include openid", EnvScopes, getenv(EnvScopes)))
	}
	c.BreakGlassGroup = get(EnvBreakGlassGroup, "")
	if c.BreakGlassGroup != "" && c.IdentityProvider == "" {
		errs = append(errs, fmt.Errorf("%s needs %s: without a hint, Cognito's sign-in page already offers local users", EnvBreakGlassGroup, EnvIdentityProvider))
	}
	if strings.Contains(c.Issuer, "{") {
		errs = append(errs, fmt.Errorf("%s=%q: name a tenant, or a multi-tenant alias (…/common/v2.0, …/organizations/v2.0) with %s, not the issuer template", EnvIssuer, c.Issuer, EnvAllowedTenants))
	}
	c.AllowedTenants = splitFields(get(EnvAllowedTenants, ""))
	for _, t := range c.AllowedTenants {
		if !tenantID.MatchString(t) {
			errs = append(errs, fmt.Errorf("%s: %q is not a tenant id (a GUID)", EnvAllowedTenants, t))
		}
	}
	c.SPADir = get(EnvSPADir, DefaultSPADir)
	c.SessionStore = get(EnvSessionStore, "cookie")
	c.ClientSecret = get(EnvClientSecret, "")
	if prod {
		need.NeedOneOf([]string{EnvClientSecret, EnvClientSecretARN}, c.ClientSecret, c.ClientSecretARN)
	} else if c.ClientSecret == "" && c.ClientSecretARN == "" {
		c.ClientSecret = DefaultSecret
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("%s=%q: want an origin such as https://portico.example.com", EnvPublicURL, c.PublicURL))
		}
	}
	if raw := devDefault(EnvServicesURL, DefaultServicesURL); raw != "" {
		su, err := url.Parse(raw)
		if err != nil || (su.Scheme != "http" && su.Scheme != "https") || su.Host == "" {
			errs = append(errs, fmt.Errorf("%s: want an http(s) URL", EnvServicesURL))
		}
		c.ServicesURL = su
	}
	if prod {
		need.NeedOneOf([]string{EnvCookieKeys, EnvCookieKeysARN}, getenv(EnvCookieKeys), getenv(EnvCookieKeysARN))
	}
	c.CookieKeysARN = get(EnvCookieKeysARN, "")
	if v := getenv(EnvCookieKeys); v != "" {
		keys, err := cookie.ParseKeys(v)
		if err == nil {
			_, err = cookie.NewCodec(keys...)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvCookieKeys, err))
		}
		c.CookieKeys = keys
	} else if c.CookieKeysARN == "" && !prod {
		key, err := cookie.GenerateKey("dev")
		if err != nil {
			errs = append(errs, err)
		}
		c.CookieKeys, c.CookieKeysGenerated = []cookie.Key{key}, true
	}
	for o := range strings.SplitSeq(getenv(EnvAllowedOrigins), ",") {
		if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	if err := checkSessionStore(c.SessionStore); err != nil {
		errs = append(errs, err)
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{EnvSessionMaxLifetime, &c.SessionMaxLifetime},
		{EnvSessionIdleTimeout, &c.SessionIdleTimeout},
		{EnvRefreshTokenTTL, &c.RefreshTokenTTL},
		{EnvAPITimeout, &c.APITimeout},
	} {
		if v := getenv(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil || dur <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a positive Go duration", d.name, v))
			}
			*d.dst = dur
		}
	}
	if v := getenv(EnvAPIMaxBodyBytes); v != "" {
		var n int64
		if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive byte count", EnvAPIMaxBodyBytes, v))
		}
		c.APIMaxBodyBytes = n
	}
	switch v := getenv(EnvTrustViewerAddress); v {
	case "", "false", "0":
	case "true", "1":
		c.TrustViewerAddress = true
	default:
		errs = append(errs, fmt.Errorf("%s=%q: want true or false", EnvTrustViewerAddress, v))
	}
	if err := need.Err(); err != nil {
		errs = append([]error{err}, errs...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// SecretFetcher returns the secret string stored under an ARN (AWS Secrets Manager).
type SecretFetcher func(ctx context.Context, arn string) (string, error)

// NeedsSecrets reports whether Resolve has secrets to fetch.
func (c *Config) NeedsSecrets() bool {
	return (c.ClientSecret == "" && c.ClientSecretARN != "") || (len(c.CookieKeys) == 0 && c.CookieKeysARN != "")
}

// Resolve fills ClientSecret from ClientSecretARN and CookieKeys from CookieKeysARN when they
// are not set directly.
func (c *Config) Resolve(ctx context.Context, fetch SecretFetcher) error {
	if c.ClientSecret == "" && c.ClientSecretARN != "" {
		secret, err := fetch(ctx, c.ClientSecretARN)
		if err != nil {
			return fmt.Errorf("config: client secret from %s: %w", EnvClientSecretARN, err)
		}
		c.ClientSecret = strings.TrimSpace(secret)
		if c.ClientSecret == "" {
			return fmt.Errorf("config: secret %s is empty", c.ClientSecretARN)
		}
	}
	if len(c.CookieKeys) == 0 && c.CookieKeysARN != "" {
		v, err := fetch(ctx, c.CookieKeysARN)
		if err != nil {
			return fmt.Errorf("config: cookie keys from %s: %w", EnvCookieKeysARN, err)
		}
		keys, err := cookie.ParseKeys(strings.TrimSpace(v))
		if err == nil {
			_, err = cookie.NewCodec(keys...)
		}
		if err != nil {
			// The secret's value is never logged or echoed.
			return fmt.Errorf("config: cookie keys from %s: %w", EnvCookieKeysARN, err)
		}
		c.CookieKeys = keys
	}
	return nil
}

// HTTPS reports whether the public URL is https (HSTS is sent only then).
func (c *Config) HTTPS() bool { return strings.HasPrefix(c.PublicURL, "https://") }

// checkSessionStore validates a PORTICO_SESSION_STORE value.
func checkSessionStore(v string) error {
	kind, rest, hasArg := strings.Cut(v, ":")
	switch {
	case !hasArg && (kind == "cookie" || kind == "memory"):
		return nil
	case hasArg && rest != "" && (kind == "sqlite" || kind == "dynamodb"):
		return nil
	}
	return fmt.Errorf("%s=%q: want cookie, memory, sqlite:<path> or dynamodb:<table>", EnvSessionStore, v)
}

// tenantID is an Entra tenant id: a GUID.
var tenantID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// splitFields splits a list separated by commas and/or white space, dropping empty items.
func splitFields(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

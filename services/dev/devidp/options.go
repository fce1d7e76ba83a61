package devidp

import (
	"log/slog"
	"strings"
	"time"
)

// Client ids and secrets of the two dev clients. They are public, development-only values.
//
//nolint:gosec // not secrets: fixed dev credentials documented in DESIGN.md
const (
	// WebClientID is the BFF's confidential client (authorization code with PKCE, refresh).
	WebClientID = "portico-web"
	// WebClientSecret is WebClientID's secret.
	WebClientSecret = "portico-dev-secret"
	// MachineClientID is the machine client (client credentials).
	MachineClientID = "portico-machine"
	// MachineClientSecret is MachineClientID's secret.
	MachineClientSecret = "portico-machine-secret"
	// DevPassword is the password of every embedded dev user.
	DevPassword = "portico-dev"
)

// Resource-server scopes the machine client may ask for.
const (
	// ScopeInference lets a machine client call the inference service.
	ScopeInference = "portico/inference"
	// ScopeIdentity lets a machine client call GetMe.
	ScopeIdentity = "portico/identity"
)

// Defaults of the configurable settings.
const (
	DefaultIssuer          = "http://localhost:9000"
	DefaultAccessTokenTTL  = time.Hour
	DefaultIDTokenTTL      = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	DefaultKeyGracePeriod  = 24 * time.Hour
	DefaultRedirectURI     = "http://localhost:8080/auth/callback"
	DefaultLogoutURI       = "http://localhost:8080/"
	// DefaultPostLogoutURI is the BFF's return address after RP-initiated logout
	// (end_session_endpoint), allowed by default beside DefaultLogoutURI.
	DefaultPostLogoutURI = "http://localhost:8080/auth/signed-out"
)

type config struct {
	issuer       string
	dataDir      string
	users        []User
	devUsers     bool // users are the embedded dev users
	accessTTL    time.Duration
	idTTL        time.Duration
	refreshTTL   time.Duration
	keyGrace     time.Duration
	redirectURIs []string
	logoutURIs   []string
	entra        *entraConfig // nil: Cognito-shaped
	now          func() time.Time
	logger       *slog.Logger
}

func defaultConfig() config {
	return config{
		issuer:       DefaultIssuer,
		users:        DefaultUsers(),
		devUsers:     true,
		accessTTL:    DefaultAccessTokenTTL,
		idTTL:        DefaultIDTokenTTL,
		refreshTTL:   DefaultRefreshTokenTTL,
		keyGrace:     DefaultKeyGracePeriod,
		redirectURIs: []string{DefaultRedirectURI},
		logoutURIs:   []string{DefaultLogoutURI, DefaultPostLogoutURI},
		now:          time.Now,
		logger:       slog.New(slog.DiscardHandler),
	}
}

// An Option configures a Server.
type Option func(*config)

// WithIssuer sets the issuer URL (the iss claim and the base of every endpoint URL).
func WithIssuer(issuer string) Option {
	return func(c *config) { c.issuer = strings.TrimRight(issuer, "/") }
}

// WithDataDir keeps the signing keys, the refresh-token sealing key and the revocation list
// in dir, so that a restart keeps sessions. Without it, keys live in memory only.
func WithDataDir(dir string) Option {
	return func(c *config) { c.dataDir = dir }
}

// WithUsers replaces the embedded dev users.
func WithUsers(users []User) Option {
	return func(c *config) { c.users, c.devUsers = users, false }
}

// WithAccessTokenTTL sets the lifetime of access tokens.
func WithAccessTokenTTL(d time.Duration) Option {
	return func(c *config) { c.accessTTL = d }
}

// WithIDTokenTTL sets the lifetime of ID tokens.
func WithIDTokenTTL(d time.Duration) Option {
	return func(c *config) { c.idTTL = d }
}

// WithRefreshTokenTTL sets the lifetime of refresh tokens.
func WithRefreshTokenTTL(d time.Duration) Option {
	return func(c *config) { c.refreshTTL = d }
}

// WithKeyGracePeriod sets how long a rotated-out public key stays in the JWKS.
func WithKeyGracePeriod(d time.Duration) Option {
	return func(c *config) { c.keyGrace = d }
}

// WithRedirectURIs sets the redirect URIs portico-web may use (exact match).
func WithRedirectURIs(uris ...string) Option {
	return func(c *config) { c.redirectURIs = uris }
}

// WithLogoutURIs sets the logout_uri values portico-web may use at /logout, and the
// post_logout_redirect_uri values at the Entra-shaped mode's end_session_endpoint (exact
// match).
func WithLogoutURIs(uris ...string) Option {
	return func(c *config) { c.logoutURIs = uris }
}

// WithClock replaces time.Now, so tests can move time instead of sleeping.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithLogger sets the structured logger. Logs never contain tokens, codes or passwords.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

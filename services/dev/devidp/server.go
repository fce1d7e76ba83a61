package devidp

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Server is the dev identity provider. It is an http.Handler; create it with New.
type Server struct {
	cfg     config
	keys    *keyring
	revoked *revocations
	users   map[string]*User
	clients map[string]*client
	mux     *http.ServeMux

	// baseURL is WithIssuer's URL; in the Entra-shaped mode the issuer is
	// baseURL/<tenant>/v2.0, basePath and issuerPath their URL paths.
	baseURL, basePath, issuerPath string

	urisMu sync.RWMutex // guards the clients' redirect and logout URIs

	mu      sync.Mutex
	pending map[string]*authRequest // login forms shown, by request id
	codes   map[string]*authCode    // authorization codes, by code
}

// New returns a Server configured by opts. With a data directory it loads the keys from
// there (creating them on first start).
func New(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	if u, err := url.Parse(cfg.issuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("devidp: issuer %q: want an absolute http(s) URL", cfg.issuer)
	}
	base := cfg.issuer
	if cfg.entra != nil {
		cfg.issuer = base + "/" + cfg.entra.tenant + "/v2.0"
	}
	if cfg.accessTTL <= 0 || cfg.idTTL <= 0 || cfg.refreshTTL <= 0 {
		return nil, fmt.Errorf("devidp: token lifetimes must be positive")
	}
	keys, err := openKeyring(cfg.dataDir, cfg.keyGrace, cfg.now())
	if err != nil {
		return nil, fmt.Errorf("devidp: %w", err)
	}
	revoked, err := openRevocations(cfg.dataDir)
	if err != nil {
		return nil, fmt.Errorf("devidp: %w", err)
	}
	s := &Server{
		cfg:     cfg,
		keys:    keys,
		revoked: revoked,
		users:   make(map[string]*User, len(cfg.users)),
		clients: devClients(cfg.redirectURIs, cfg.logoutURIs, cfg.entra),
		baseURL: base,
		pending: make(map[string]*authRequest),
		codes:   make(map[string]*authCode),
	}
	if u, err := url.Parse(base); err == nil {
		s.basePath = strings.TrimSuffix(u.Path, "/")
	}
	if u, err := url.Parse(cfg.issuer); err == nil {
		s.issuerPath = strings.TrimSuffix(u.Path, "/")
	}
	for i := range cfg.users {
		u := cfg.users[i]
		s.users[u.Username] = &u
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /.well-known/openid-configuration", s.handleDiscovery)
	s.mux.HandleFunc("GET /.well-known/jwks.json", s.handleJWKS)
	s.mux.HandleFunc("GET /oauth2/authorize", s.handleAuthorize)
	s.mux.HandleFunc("POST /login", s.handleLogin)
	s.mux.HandleFunc("POST /oauth2/token", s.handleToken)
	s.mux.HandleFunc("POST /oauth2/revoke", s.handleRevoke)
	s.mux.HandleFunc("GET /oauth2/userInfo", s.handleUserInfo)
	s.mux.HandleFunc("POST /oauth2/userInfo", s.handleUserInfo)
	if cfg.entra != nil {
		s.mux.HandleFunc("GET /oauth2/logout", s.handleEndSession)
	} else {
		s.mux.HandleFunc("GET /logout", s.handleLogout)
	}
	s.mux.HandleFunc("POST /dev/rotate-keys", s.handleRotateKeys)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	return s, nil
}

// ServeHTTP serves every endpoint of the provider.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.entra != nil {
		s.serveEntra(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Issuer returns the issuer URL (the iss claim).
func (s *Server) Issuer() string { return s.cfg.issuer }

// AuthorizationEndpoint returns the authorization endpoint's URL.
func (s *Server) AuthorizationEndpoint() string { return s.cfg.issuer + "/oauth2/authorize" }

// TokenEndpoint returns the token endpoint's URL.
func (s *Server) TokenEndpoint() string { return s.cfg.issuer + "/oauth2/token" }

// RotateKeys makes a new signing key current. The previous public key stays in the JWKS for
// the grace period, so tokens it signed keep verifying until then.
func (s *Server) RotateKeys() error {
	if err := s.keys.rotate(s.cfg.now()); err != nil {
		return fmt.Errorf("devidp: rotate keys: %w", err)
	}
	kid, _ := s.keys.current()
	s.cfg.logger.Info("signing key rotated", "kid", kid)
	return nil
}

// SigningKey returns the current signing key and its kid. Tests use it to craft tokens.
func (s *Server) SigningKey() (kid string, key *rsa.PrivateKey) {
	return s.keys.current()
}

// RedirectURIs returns the redirect URIs registered for portico-web.
func (s *Server) RedirectURIs() []string {
	s.urisMu.RLock()
	defer s.urisMu.RUnlock()
	return slices.Clone(s.clients[WebClientID].redirectURIs)
}

// SetRedirectURIs replaces portico-web's redirect URIs, for tests that learn the client's
// address only after the provider has started.
func (s *Server) SetRedirectURIs(uris ...string) {
	s.urisMu.Lock()
	defer s.urisMu.Unlock()
	s.clients[WebClientID].redirectURIs = slices.Clone(uris)
}

// SetLogoutURIs replaces portico-web's allowed logout_uri values.
func (s *Server) SetLogoutURIs(uris ...string) {
	s.urisMu.Lock()
	defer s.urisMu.Unlock()
	s.clients[WebClientID].logoutURIs = slices.Clone(uris)
}

func (s *Server) redirectAllowed(c *client, uri string) bool {
	s.urisMu.RLock()
	defer s.urisMu.RUnlock()
	return contains(c.redirectURIs, uri)
}

func (s *Server) logoutAllowed(c *client, uri string) bool {
	s.urisMu.RLock()
	defer s.urisMu.RUnlock()
	return contains(c.logoutURIs, uri)
}

// User returns the user named username.
func (s *Server) User(username string) (User, bool) {
	u, ok := s.users[username]
	if !ok {
		return User{}, false
	}
	return *u, true
}

func (s *Server) handleRotateKeys(w http.ResponseWriter, _ *http.Request) {
	if err := s.RotateKeys(); err != nil {
		s.cfg.logger.Error("rotate keys", "err", err)
		http.Error(w, "rotate keys failed", http.StatusInternalServerError)
		return
	}
	kid, _ := s.keys.current()
	writeJSON(w, http.StatusOK, map[string]string{"kid": kid})
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := s.cfg.issuer
	if s.cfg.entra != nil {
		issuer := iss
		if tmpl, ok := r.Context().Value(discoveryIssuerKey{}).(string); ok {
			issuer = tmpl
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                                issuer,
			"authorization_endpoint":                iss + "/oauth2/authorize",
			"token_endpoint":                        iss + "/oauth2/token",
			"userinfo_endpoint":                     iss + "/oauth2/userInfo",
			"end_session_endpoint":                  iss + "/oauth2/logout",
			"jwks_uri":                              iss + "/.well-known/jwks.json",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"pairwise"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"scopes_supported":                      []string{"openid", "email", "profile", ScopeOfflineAccess},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
			"code_challenge_methods_supported":      []string{"S256"},
			"claims_supported": []string{
				"sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "email", "name", "oid", "tid",
				"preferred_username", "groups", "roles", "ver",
			},
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                 iss,
		"authorization_endpoint": iss + "/oauth2/authorize",
		"token_endpoint":         iss + "/oauth2/token",
		"userinfo_endpoint":      iss + "/oauth2/userInfo",
		"revocation_endpoint":    iss + "/oauth2/revoke",
		// Real Cognito advertises its non-standard /logout here (since 2024), though it takes
		// client_id and logout_uri, not RP-initiated logout's parameters.
		"end_session_endpoint":                       iss + "/logout",
		"jwks_uri":                                   iss + "/.well-known/jwks.json",
		"response_types_supported":                   []string{"code"},
		"grant_types_supported":                      []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                    []string{"public"},
		"id_token_signing_alg_values_supported":      []string{"RS256"},
		"scopes_supported":                           []string{"openid", "email", "profile", ScopeInference, ScopeIdentity},
		"token_endpoint_auth_methods_supported":      []string{"client_secret_basic", "client_secret_post"},
		"revocation_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":           []string{"S256"},
		"claims_supported": []string{
			"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified", "name",
			"given_name", "family_name", "cognito:username", "cognito:groups", "custom:department",
		},
	})
}

func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	keys := s.keys.active(s.cfg.now())
	out := struct {
		Keys []any `json:"keys"`
	}{}
	for _, k := range keys {
		out.Keys = append(out.Keys, k)
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// now is a shorthand for the configured clock.
func (s *Server) now() time.Time { return s.cfg.now() }

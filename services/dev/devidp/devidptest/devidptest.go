// Package devidptest runs the dev identity provider on an httptest server for tests, and
// gets tokens from it the way Portico's clients do: through the login form and the token
// endpoint, never by shortcut.
package devidptest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/html"

	"github.com/portico-dev/portico/services/dev/devidp"
)

// IdP is a dev identity provider running on an httptest server; its issuer is the server's
// URL. Create it with Start.
type IdP struct {
	server *devidp.Server
	http   *httptest.Server
	down   atomic.Bool
}

// Start runs the real devidp handler on a loopback httptest server for the test's duration.
// opts override the defaults (in-memory keys, the embedded users, the issuer set to the
// server's URL).
func Start(t testing.TB, opts ...devidp.Option) *IdP {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	issuer := "http://" + ts.Listener.Addr().String()
	srv, err := devidp.New(append([]devidp.Option{devidp.WithIssuer(issuer)}, opts...)...)
	if err != nil {
		ts.Close()
		t.Fatalf("devidptest: %v", err)
	}
	idp := &IdP{server: srv, http: ts}
	ts.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if idp.down.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"error":"temporarily_unavailable"}`)
			return
		}
		srv.ServeHTTP(w, r)
	})
	ts.Start()
	t.Cleanup(ts.Close)
	return idp
}

// Issuer returns the issuer URL, which is also the server's base URL.
func (p *IdP) Issuer() string { return p.server.Issuer() }

// Server returns the running devidp.Server.
func (p *IdP) Server() *devidp.Server { return p.server }

// HTTPClient returns a client for the test server.
func (p *IdP) HTTPClient() *http.Client { return p.http.Client() }

// RotateKeys makes a new signing key current; the old one stays in the JWKS for the grace
// period.
func (p *IdP) RotateKeys() {
	if err := p.server.RotateKeys(); err != nil {
		panic(fmt.Sprintf("devidptest: %v", err))
	}
}

// SetDown makes every endpoint answer 503 (true) or serve normally again (false).
func (p *IdP) SetDown(down bool) { p.down.Store(down) }

// SigningKey returns the current signing key and its kid, for crafting attacks.
func (p *IdP) SigningKey() (kid string, key *rsa.PrivateKey) { return p.server.SigningKey() }

// SignClaims signs claims, exactly as given, with the current key (RS256 and its kid).
func (p *IdP) SignClaims(t testing.TB, claims map[string]any) string {
	t.Helper()
	tok, err := p.server.SignClaims(claims)
	if err != nil {
		t.Fatalf("devidptest: sign claims: %v", err)
	}
	return tok
}

// Tokens is a token endpoint response.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// SignIn signs username in as portico-web does (authorization code with PKCE S256, scopes
// openid email profile, the given nonce) and returns the tokens.
func (p *IdP) SignIn(t testing.TB, username, nonce string) *Tokens {
	t.Helper()
	return p.SignInScopes(t, username, nonce, "openid", "email", "profile")
}

// SignInScopes is SignIn asking for scopes (in the Entra-shaped mode, for example
// devidp.EntraAPIScope for an access token for Portico's API, and devidp.ScopeOfflineAccess
// for a refresh token).
func (p *IdP) SignInScopes(t testing.TB, username, nonce string, scopes ...string) *Tokens {
	t.Helper()
	user, ok := p.server.User(username)
	if !ok {
		t.Fatalf("devidptest: no user %q", username)
	}
	redirectURI := p.server.RedirectURIs()[0]
	verifier, challenge := NewPKCE()
	authURL := p.AuthorizeURL(url.Values{
		"redirect_uri":   {redirectURI},
		"nonce":          {nonce},
		"code_challenge": {challenge},
		"scope":          {strings.Join(scopes, " ")},
	})
	loc := Login(t, p.HTTPClient(), authURL, username, user.Password)
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("devidptest: sign-in of %q redirected without a code: %s", username, loc.Query().Get("error"))
	}
	return p.token(t, devidp.WebClientID, devidp.WebClientSecret, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	})
}

// AccessToken returns username's access token as portico-web gets it.
func (p *IdP) AccessToken(t testing.TB, username string) string {
	t.Helper()
	return p.SignIn(t, username, "").AccessToken
}

// IDToken returns username's ID token carrying nonce, as portico-web gets it.
func (p *IdP) IDToken(t testing.TB, username, nonce string) string {
	t.Helper()
	return p.SignIn(t, username, nonce).IDToken
}

// MachineToken returns a client-credentials access token of portico-machine with scopes
// (all of the client's scopes when none are given; in the Entra-shaped mode, pass
// devidp.EntraDefaultScope).
func (p *IdP) MachineToken(t testing.TB, scopes ...string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	return p.token(t, devidp.MachineClientID, devidp.MachineClientSecret, form).AccessToken
}

// Refresh redeems a portico-web refresh token.
func (p *IdP) Refresh(t testing.TB, refreshToken string) *Tokens {
	t.Helper()
	return p.token(t, devidp.WebClientID, devidp.WebClientSecret, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
	})
}

// AuthorizeURL returns the authorization endpoint URL for portico-web with response_type
// code, scope "openid email profile", state "state", code_challenge_method S256 and the
// first registered redirect URI, overridden or completed by params.
func (p *IdP) AuthorizeURL(params url.Values) string {
	q := url.Values{
		"client_id":             {devidp.WebClientID},
		"response_type":         {"code"},
		"scope":                 {"openid email profile"},
		"state":                 {"state"},
		"redirect_uri":          {p.server.RedirectURIs()[0]},
		"code_challenge_method": {"S256"},
	}
	for k, v := range params {
		q[k] = v
	}
	return p.server.AuthorizationEndpoint() + "?" + q.Encode()
}

func (p *IdP) token(t testing.TB, clientID, secret string, form url.Values) *Tokens {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.server.TokenEndpoint(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("devidptest: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := p.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("devidptest: token request: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("devidptest: token request: %s: %s", resp.Status, body)
	}
	var tok Tokens
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatalf("devidptest: token response: %v", err)
	}
	return &tok
}

// NewPKCE returns a fresh RFC 7636 code verifier and its S256 challenge.
func NewPKCE() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// Login opens authorizeURL with client, submits the login form with username and password,
// and returns the redirect back to the client application (carrying code and state, or an
// OAuth error). It fails the test when the form cannot be submitted or the sign-in is refused.
// client keeps its cookie jar and transport; redirects are not followed.
func Login(t testing.TB, client *http.Client, authorizeURL, username, password string) *url.URL {
	t.Helper()
	loc, err := TryLogin(t.Context(), client, authorizeURL, username, password)
	if err != nil {
		t.Fatalf("devidptest: login: %v", err)
	}
	return loc
}

// ErrSignInRefused is returned by TryLogin when the login form comes back with an error.
var ErrSignInRefused = errors.New("sign-in refused")

// TryLogin is Login returning errors; a wrong password gives ErrSignInRefused.
func TryLogin(ctx context.Context, client *http.Client, authorizeURL, username, password string) (*url.URL, error) {
	if client == nil {
		client = http.DefaultClient
	}
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizeURL, nil)
	if err != nil {
		return nil, fmt.Errorf("authorize URL: %w", err)
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open authorize URL: %w", err)
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read login page: %w", err)
	}
	if loc, ok := redirectOf(resp); ok {
		return loc, nil // the provider refused the request and redirected with an error
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("authorize: %s", resp.Status)
	}
	action, fields, err := parseForm(page)
	if err != nil {
		return nil, err
	}
	target, err := resp.Request.URL.Parse(action)
	if err != nil {
		return nil, fmt.Errorf("form action %q: %w", action, err)
	}
	fields.Set("username", username)
	fields.Set("password", password)
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
	if err != nil {
		return nil, fmt.Errorf("login form: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = noFollow.Do(req)
	if err != nil {
		return nil, fmt.Errorf("submit login form: %w", err)
	}
	_ = resp.Body.Close()
	if loc, ok := redirectOf(resp); ok {
		return loc, nil
	}
	if resp.StatusCode == http.StatusOK {
		return nil, ErrSignInRefused
	}
	return nil, fmt.Errorf("submit login form: %s", resp.Status)
}

func redirectOf(resp *http.Response) (*url.URL, bool) {
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil, false
	}
	loc, err := resp.Location()
	return loc, err == nil
}

// parseForm returns the first form's action and its hidden fields.
func parseForm(page []byte) (action string, fields url.Values, err error) {
	doc, err := html.Parse(strings.NewReader(string(page)))
	if err != nil {
		return "", nil, fmt.Errorf("parse login page: %w", err)
	}
	fields = url.Values{}
	found := false
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch {
		case n.Data == "form" && !found:
			found = true
			action = attr(n, "action")
		case n.Data == "input" && found && attr(n, "type") == "hidden":
			fields.Add(attr(n, "name"), attr(n, "value"))
		}
	}
	if !found {
		return "", nil, errors.New("login page has no form")
	}
	return action, fields, nil
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

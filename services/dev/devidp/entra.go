package devidp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Values of the Entra-shaped mode (WithEntra). They are public, development-only values.
const (
	// DevTenantID is the dev tenant's id (tid, and the issuer's path).
	DevTenantID = "6f1c3b9e-2d4a-4c8f-9e1b-7a5d3c2e1f00"
	// EntraAudience is the application id URI of Portico's API in the dev tenant: the
	// prefix of its scopes.
	EntraAudience = "api://portico"
	// EntraAPIClientID is the client id of Portico's API app in the dev tenant: the aud of
	// the v2.0 access tokens issued for its scopes, as Entra sets it.
	EntraAPIClientID = "9a2e7c1d-4b3f-4e8a-a1d5-6c0b2f9e8d71"
	// EntraAPIScope is the delegated scope the BFF asks for to get an access token for
	// Portico's API (scp "access").
	EntraAPIScope = EntraAudience + "/access"
	// EntraDefaultScope is what a machine client asks for: every application permission
	// (app role) granted to it.
	EntraDefaultScope = EntraAudience + "/.default"
	// GraphAudience is Microsoft Graph's application id: the aud of access tokens issued
	// when no API scope is asked for (only those are accepted at userinfo, as in Entra).
	GraphAudience = "00000003-0000-0000-c000-000000000000"
	// ScopeOfflineAccess asks for a refresh token (Entra issues none without it).
	ScopeOfflineAccess = "offline_access"
	// EntraDepartmentClaim is the claim of the API's access tokens that holds a person's
	// department, as a claims mapping policy emits a directory extension attribute in Entra
	// (which has no optional claim for it); the dev stack points PORTICO_DEPARTMENT_CLAIM at
	// it.
	EntraDepartmentClaim = "extn.department"
)

// entraConfig is the Entra-shaped mode's configuration.
type entraConfig struct {
	tenant   string
	audience string
}

// WithEntra makes the provider Entra-shaped (Microsoft Entra ID v2.0): the issuer becomes
// <base>/<tenantID>/v2.0, where base is WithIssuer's URL, and every endpoint lives under it;
// discovery also answers under <base>/common/v2.0 and <base>/organizations/v2.0 with the
// multi-tenant issuer template <base>/{tenantid}/v2.0; discovery advertises an
// end_session_endpoint (RP-initiated logout) and Cognito's /logout is gone. Tokens have
// Entra's v2 shape: no token_use or client_id; access tokens carry ver "2.0", aud
// (EntraAPIClientID for the API's scopes <audience>/…, Microsoft Graph otherwise), azp, tid,
// oid, scp (delegated) or roles (application, idtyp "app"), preferred_username and groups as
// object ids (GroupObjectID); ID tokens carry aud (the client), tid, oid, preferred_username,
// email, name and groups. A refresh token is issued only for offline_access, and rotated at
// each refresh. audience is the API's application id URI; an empty tenantID or audience
// means DevTenantID and EntraAudience. A machine client asks for <audience>/.default and
// gets its dev scopes as app roles.
func WithEntra(tenantID, audience string) Option {
	return func(c *config) {
		if tenantID == "" {
			tenantID = DevTenantID
		}
		if audience == "" {
			audience = EntraAudience
		}
		c.entra = &entraConfig{tenant: tenantID, audience: audience}
	}
}

// groupNamespace derives the dev groups' object ids (UUIDv5) from their names.
var groupNamespace = uuid.MustParse("0b8f1d7e-6a43-4c2b-9d55-1e7c0a3f9b21")

// GroupObjectID returns the object id (a GUID) that the Entra-shaped mode gives the group
// named name, as Entra sends group object ids rather than names.
func GroupObjectID(name string) string {
	return uuid.NewSHA1(groupNamespace, []byte(name)).String()
}

// pairwiseSubject is Entra's sub: a value unique to the user and the client.
func pairwiseSubject(oid, clientID string) string {
	sum := sha256.Sum256([]byte(oid + "\x00" + clientID))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:43]
}

// Entra's discovery aliases for multi-tenant apps.
var multiTenantAliases = []string{"common", "organizations"}

// entraPrefixes returns the path prefixes the Entra-shaped provider serves, the tenant's
// first.
func (s *Server) entraPrefixes() []string {
	out := []string{s.issuerPath}
	for _, alias := range multiTenantAliases {
		out = append(out, s.basePath+"/"+alias+"/v2.0")
	}
	return out
}

type discoveryIssuerKey struct{}

// serveEntra routes a request under one of the Entra prefixes to the mux with the prefix
// removed; discovery under a multi-tenant alias answers with the issuer template.
func (s *Server) serveEntra(w http.ResponseWriter, r *http.Request) {
	for i, prefix := range s.entraPrefixes() {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || (rest != "" && rest[0] != '/') {
			continue
		}
		if i > 0 && rest != "/.well-known/openid-configuration" {
			break // the aliases serve discovery only; their endpoints are the tenant's
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = rest
		r2.URL.RawPath = ""
		if i > 0 {
			r2 = r2.WithContext(context.WithValue(r2.Context(), discoveryIssuerKey{}, s.baseURL+"/{tenantid}/v2.0"))
		}
		s.mux.ServeHTTP(w, r2)
		return
	}
	if r.URL.Path == "/healthz" {
		s.mux.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

// entraUserAccessClaims returns the claims of a person's Entra v2 access token.
func (s *Server) entraUserAccessClaims(sess *session, now time.Time) map[string]any {
	u := sess.user
	aud, scp := GraphAudience, []string{"openid", "profile", "email", "User.Read"}
	var apiScopes []string
	for _, sc := range sess.scopes {
		if v, ok := strings.CutPrefix(sc, s.cfg.entra.audience+"/"); ok {
			apiScopes = append(apiScopes, v)
		}
	}
	if len(apiScopes) > 0 {
		aud, scp = EntraAPIClientID, apiScopes
	}
	claims := map[string]any{
		"aud":                aud,
		"iss":                s.cfg.issuer,
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(s.cfg.accessTTL).Unix(),
		"azp":                sess.clientID,
		"azpacr":             "1",
		"name":               u.Name(),
		"oid":                u.Subject,
		"preferred_username": u.Email,
		"scp":                strings.Join(scp, " "),
		"sub":                pairwiseSubject(u.Subject, sess.clientID),
		"tid":                s.cfg.entra.tenant,
		"uti":                newID(),
		"ver":                "2.0",
	}
	if len(u.Groups) > 0 {
		claims["groups"] = groupIDs(u.Groups)
	}
	if aud == EntraAPIClientID && u.Department != "" {
		claims[EntraDepartmentClaim] = u.Department
	}
	return claims
}

// entraIDClaims returns the claims of a person's Entra v2 ID token.
func (s *Server) entraIDClaims(sess *session, nonce string, now time.Time) map[string]any {
	u := sess.user
	claims := map[string]any{
		"aud":                sess.clientID,
		"iss":                s.cfg.issuer,
		"iat":                now.Unix(),
		"nbf":                now.Unix(),
		"exp":                now.Add(s.cfg.idTTL).Unix(),
		"email":              u.Email,
		"name":               u.Name(),
		"oid":                u.Subject,
		"preferred_username": u.Email,
		"sub":                pairwiseSubject(u.Subject, sess.clientID),
		"tid":                s.cfg.entra.tenant,
		"uti":                newID(),
		"ver":                "2.0",
	}
	if len(u.Groups) > 0 {
		claims["groups"] = groupIDs(u.Groups)
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	return claims
}

// entraMachineAccessClaims returns the claims of an Entra v2 client-credentials token: the
// application permissions granted to the client as roles.
func (s *Server) entraMachineAccessClaims(clientID string, roles []string, now time.Time) map[string]any {
	oid := uuid.NewSHA1(groupNamespace, []byte("app:"+clientID)).String()
	return map[string]any{
		"aud":    EntraAPIClientID,
		"iss":    s.cfg.issuer,
		"iat":    now.Unix(),
		"nbf":    now.Unix(),
		"exp":    now.Add(s.cfg.accessTTL).Unix(),
		"azp":    clientID,
		"azpacr": "1",
		"idtyp":  "app",
		"oid":    oid,
		"roles":  roles,
		"sub":    oid,
		"tid":    s.cfg.entra.tenant,
		"uti":    newID(),
		"ver":    "2.0",
	}
}

func groupIDs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = GroupObjectID(n)
	}
	return out
}

// entraClientCredentials grants a machine client its app roles for <audience>/.default.
func (s *Server) entraClientCredentials(c *client, form url.Values) (*tokenSet, *oauthError) {
	if form.Get("scope") != s.cfg.entra.audience+"/.default" {
		return nil, &oauthError{status: http.StatusBadRequest, Code: "invalid_scope", Desc: "scope must be " + s.cfg.entra.audience + "/.default"}
	}
	access, err := s.SignClaims(s.entraMachineAccessClaims(c.id, slices.Clone(c.scopes), s.now()))
	if err != nil {
		s.cfg.logger.Error("issue tokens", "err", err)
		return nil, &oauthError{status: http.StatusInternalServerError, Code: "server_error"}
	}
	return &tokenSet{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(s.cfg.accessTTL / time.Second)}, nil
}

var errBadHint = errors.New("id_token_hint is not an ID token this provider issued")

// handleEndSession is OpenID Connect RP-Initiated Logout 1.0: it redirects to
// post_logout_redirect_uri (with state) when that is a sign-out URL of the client named by
// client_id or by the id_token_hint's aud. There is no single sign-on session to end.
func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	clientID := q.Get("client_id")
	if hint := q.Get("id_token_hint"); hint != "" {
		aud, err := s.hintAudience(hint)
		if err != nil || (clientID != "" && aud != clientID) {
			s.renderError(w, http.StatusBadRequest, "id_token_hint is not valid for this client.")
			return
		}
		clientID = aud
	}
	c, ok := s.clients[clientID]
	if !ok {
		s.renderError(w, http.StatusBadRequest, "Unknown client_id.")
		return
	}
	target := q.Get("post_logout_redirect_uri")
	if target == "" {
		s.renderLogin(w, http.StatusOK, "", loginView{Error: "You have signed out."})
		return
	}
	if !s.logoutAllowed(c, target) {
		s.renderError(w, http.StatusBadRequest, "post_logout_redirect_uri is not a sign-out URL of this client.")
		return
	}
	params := url.Values{}
	if st := q.Get("state"); st != "" {
		params.Set("state", st)
	}
	http.Redirect(w, r, withQuery(target, params), http.StatusFound)
}

// hintAudience verifies an ID token given as id_token_hint (signature by an active key and
// issuer; an expired one is fine, as OpenID allows) and returns its aud.
func (s *Server) hintAudience(hint string) (string, error) {
	claims, err := s.verifySigned(hint, s.now())
	if err != nil || claims["iss"] != s.cfg.issuer {
		return "", errBadHint
	}
	aud, _ := claims["aud"].(string)
	if aud == "" {
		return "", errBadHint
	}
	return aud, nil
}

// usernameByObjectID returns the username of the user whose oid (Subject) is oid.
func (s *Server) usernameByObjectID(oid any) string {
	for name, u := range s.users {
		if u.Subject == oid {
			return name
		}
	}
	return ""
}

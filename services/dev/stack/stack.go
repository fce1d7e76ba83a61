// Package stack describes Portico's local stack once: its four pieces (the dev identity
// provider, the local AWS endpoint, the services and the BFF) in start order, the command
// each runs, the address each listens on, the environment each needs and where each answers
// when ready. The dev launcher (services/dev/cmd/portico-dev) runs it on the fixed dev ports
// of docs/contracts.md; the bench harness (services/testing/bench) runs it on free loopback
// ports. Neither restates a piece's environment: both take it from Config.Pieces.
package stack

import (
	"maps"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/portico-dev/portico/services/dev/devidp"
	"github.com/portico-dev/portico/services/dev/localaws"
)

// Names of the pieces, as the launcher's -only flag, log prefixes and the harness use them.
const (
	DevIdP   = "devidp"
	LocalAWS = "localaws"
	Services = "services"
	BFF      = "bff"
)

// HealthPath is where every piece answers 200 once it is ready.
const HealthPath = "/healthz"

// AWSRegion is the region the local stack's AWS SDK clients use.
const AWSRegion = "us-east-1"

// Addrs are the pieces' listen addresses (host:port).
type Addrs struct {
	// DevIdP, LocalAWS, Services and BFF are the addresses of the pieces of those names.
	DevIdP, LocalAWS, Services, BFF string
}

// DevAddrs returns the fixed addresses `make dev` uses (docs/contracts.md).
func DevAddrs() Addrs {
	return Addrs{DevIdP: "localhost:9000", LocalAWS: "localhost:4566", Services: "localhost:8081", BFF: "localhost:8080"}
}

// Config describes one run of the stack.
type Config struct {
	// Addrs are where the pieces listen.
	Addrs Addrs
	// DataDir holds the dev IdP's data (DataDir/idp) and the services' SQLite stores
	// (DataDir/portico.db, StorePath; DataDir/conversations.db, ConversationStorePath).
	DataDir string
	// SPADir is the directory the BFF serves the web app from.
	SPADir string
	// PolicyFile is the services' policy file; empty leaves PORTICO_POLICY_FILE unset (the
	// services' built-in development policy).
	PolicyFile string
	// CookieKeys is the BFF's cookie key ring (PORTICO_COOKIE_KEYS); empty leaves it unset
	// (the BFF generates keys that last as long as the process).
	CookieKeys string
	// TokensPerSecond paces the local AWS endpoint's streams (0: as fast as possible); nil
	// leaves PORTICO_LOCALAWS_TOKENS_PER_SECOND unset (the endpoint's default pace).
	TokensPerSecond *float64
}

// Piece is one process of the stack.
type Piece struct {
	// Name is one of DevIdP, LocalAWS, Services and BFF.
	Name string
	// Pkg is the command's package directory, relative to the module root.
	Pkg string
	// Addr is the listen address (host:port).
	Addr string
	// Env is the piece's own environment: the variables docs/contracts.md lists for it,
	// valued for this stack. The AWS SDK's settings are apart, in LocalAWSEnv.
	Env map[string]string
}

// Binary is the name go build gives the piece's command.
func (p Piece) Binary() string { return filepath.Base(p.Pkg) }

// URL is the piece's base URL.
func (p Piece) URL() string { return "http://" + p.Addr }

// HealthURL is the piece's readiness endpoint.
func (p Piece) HealthURL() string { return p.URL() + HealthPath }

// StorePath is the services' SQLite store.
func (c Config) StorePath() string { return filepath.Join(c.DataDir, "portico.db") }

// AttachmentDir is the folder of the conversations' attachments, beside the store.
func (c Config) AttachmentDir() string { return filepath.Join(c.DataDir, "attachments") }

// ConversationStorePath is the services' SQLite conversation store.
func (c Config) ConversationStorePath() string { return filepath.Join(c.DataDir, "conversations.db") }

// Pieces returns the four pieces in start order: the dev IdP, the local AWS endpoint, the
// services and the BFF, each needing only those before it.
func (c Config) Pieces() []Piece {
	idp, bff := "http://"+c.Addrs.DevIdP, "http://"+c.Addrs.BFF
	pieces := []Piece{
		{Name: DevIdP, Pkg: "services/dev/cmd/portico-devidp", Addr: c.Addrs.DevIdP, Env: map[string]string{
			"PORTICO_IDP_ADDR":          c.Addrs.DevIdP,
			"PORTICO_IDP_ISSUER":        idp,
			"PORTICO_IDP_DATA_DIR":      filepath.Join(c.DataDir, "idp"),
			"PORTICO_IDP_REDIRECT_URIS": bff + "/auth/callback",
			"PORTICO_IDP_LOGOUT_URIS":   bff + "/," + bff + "/auth/signed-out",
		}},
		{Name: LocalAWS, Pkg: "services/dev/cmd/portico-localaws", Addr: c.Addrs.LocalAWS, Env: map[string]string{
			"PORTICO_LOCALAWS_ADDR": c.Addrs.LocalAWS,
		}},
		{Name: Services, Pkg: "services/cmd/portico-services", Addr: c.Addrs.Services, Env: map[string]string{
			"PORTICO_SERVICES_ADDR":      c.Addrs.Services,
			"PORTICO_ISSUER":             idp,
			"PORTICO_CLIENT_IDS":         devidp.WebClientID + "," + devidp.MachineClientID,
			"PORTICO_BFF_CLIENT_IDS":     devidp.WebClientID,
			"PORTICO_STORE":              "sqlite:" + c.StorePath(),
			"PORTICO_ATTACHMENT_STORE":   "dir:" + c.AttachmentDir(),
			"PORTICO_CONVERSATION_STORE": "sqlite:" + c.ConversationStorePath(),
			"PORTICO_KEY_STORE":          "sqlite:" + filepath.Join(c.DataDir, "keys.db"),
			"PORTICO_PUBLIC_API_URL":     "http://" + c.Addrs.Services + "/v1",
		}},
		{Name: BFF, Pkg: "bff/cmd/portico-bff", Addr: c.Addrs.BFF, Env: map[string]string{
			"PORTICO_BFF_ADDR":           c.Addrs.BFF,
			"PORTICO_PUBLIC_URL":         bff,
			"PORTICO_OIDC_ISSUER":        idp,
			"PORTICO_OIDC_CLIENT_ID":     devidp.WebClientID,
			"PORTICO_OIDC_CLIENT_SECRET": devidp.WebClientSecret,
			"PORTICO_SERVICES_URL":       "http://" + c.Addrs.Services,
			"PORTICO_SPA_DIR":            c.SPADir,
		}},
	}
	if c.TokensPerSecond != nil {
		pieces[1].Env["PORTICO_LOCALAWS_TOKENS_PER_SECOND"] = strconv.FormatFloat(*c.TokensPerSecond, 'f', -1, 64)
	}
	if c.PolicyFile != "" {
		pieces[2].Env["PORTICO_POLICY_FILE"] = c.PolicyFile
	}
	if c.CookieKeys != "" {
		pieces[3].Env["PORTICO_COOKIE_KEYS"] = c.CookieKeys
	}
	return pieces
}

// Identity provider shapes of the stack (the launcher's -identity).
const (
	// IdentityCognito is the dev IdP shaped like Amazon Cognito (the default).
	IdentityCognito = "cognito"
	// IdentityEntra is the dev IdP shaped like Microsoft Entra ID v2.0.
	IdentityEntra = "entra"
)

// WithIdentity returns copies of pieces set up for identity. For IdentityEntra the dev IdP
// runs Entra-shaped (PORTICO_IDP_PROFILE=entra), the services verify Entra v2.0 tokens (the
// dev tenant, the API app's client id as audience, scope "access", group object ids mapped by
// the dev policy's groupIds, the department from devidp.EntraDepartmentClaim) and the BFF asks for offline_access and the API's scope, all at
// the tenant's issuer. IdentityCognito (or "") leaves pieces as they are.
func WithIdentity(pieces []Piece, identity string) []Piece {
	if identity != IdentityEntra {
		return pieces
	}
	out := make([]Piece, len(pieces))
	for i, p := range pieces {
		env := maps.Clone(p.Env)
		switch p.Name {
		case DevIdP:
			env["PORTICO_IDP_PROFILE"] = IdentityEntra
		case Services:
			env["PORTICO_ISSUER"] = env["PORTICO_ISSUER"] + "/" + devidp.DevTenantID + "/v2.0"
			env["PORTICO_TOKEN_PROFILE"] = IdentityEntra
			env["PORTICO_ENTRA_TENANT_ID"] = devidp.DevTenantID
			env["PORTICO_ENTRA_AUDIENCE"] = devidp.EntraAPIClientID
			env["PORTICO_ENTRA_SCOPE"] = "access"
			env["PORTICO_DEPARTMENT_CLAIM"] = devidp.EntraDepartmentClaim
		case BFF:
			env["PORTICO_OIDC_ISSUER"] = env["PORTICO_OIDC_ISSUER"] + "/" + devidp.DevTenantID + "/v2.0"
			env["PORTICO_OIDC_SCOPES"] = "openid email profile " + devidp.ScopeOfflineAccess + " " + devidp.EntraAPIScope
		}
		p.Env = env
		out[i] = p
	}
	return out
}

// Piece returns the piece called name, or false.
func (c Config) Piece(name string) (Piece, bool) {
	pieces := c.Pieces()
	i := slices.IndexFunc(pieces, func(p Piece) bool { return p.Name == name })
	if i < 0 {
		return Piece{}, false
	}
	return pieces[i], true
}

// LocalAWSEnv points the AWS SDK at the local AWS endpoint on addr with the dev keys it
// accepts. An empty value means the variable must be unset (no profile or session token of
// the caller's may leak in).
func LocalAWSEnv(addr string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":      "http://" + addr,
		"AWS_REGION":            AWSRegion,
		"AWS_ACCESS_KEY_ID":     localaws.DefaultAccessKeyID,
		"AWS_SECRET_ACCESS_KEY": localaws.DefaultSecretAccessKey,
		"AWS_SESSION_TOKEN":     "",
		"AWS_PROFILE":           "",
	}
}

// Environ returns the union of envs (later maps win) as sorted KEY=VALUE entries for
// exec.Cmd.Env, leaving out the variables whose value is empty (unset).
func Environ(envs ...map[string]string) []string {
	all := map[string]string{}
	for _, env := range envs {
		maps.Copy(all, env)
	}
	out := make([]string, 0, len(all))
	for _, k := range slices.Sorted(maps.Keys(all)) {
		if all[k] != "" {
			out = append(out, k+"="+all[k])
		}
	}
	return out
}

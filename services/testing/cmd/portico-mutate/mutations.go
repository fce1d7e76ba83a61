package main

// Packages whose tests must catch the mutations of each area.
var (
	tokenPkgs     = []string{"./services/token/...", "./services/authn", "./services/authorizer"}
	sqlitePkgs    = []string{"./services/store/sqlitestore"}
	dynamoPkgs    = []string{"./services/store/dynamostore"}
	policyPkgs    = []string{"./services/policy"}
	returnToPkgs  = []string{"./bff/oidcflow"}
	allowlistPkgs = []string{"./bff/proxy"}
)

// mutations are the known-dangerous changes the tests must catch: each is what a careless
// edit or a bad merge could do to a check that keeps tokens, quotas, entitlements, redirects
// or the BFF's procedure allowlist honest. Every mutation compiles; the tool refuses one
// whose text is no longer found exactly once (update it with the code it mutates).
var mutations = []mutation{
	// The token verifier (services/token).
	{
		name: "token: crit header ignored",
		pkgs: tokenPkgs,
		edits: []edit{{"services/token/verifier.go",
			`if len(t.Header.Crit) > 0 {`,
			`if false {`}},
	},
	{
		name: "token: token_use only refuses \"id\" (not \"access\" required)",
		pkgs: tokenPkgs,
		edits: []edit{{"services/token/profile.go",
			`if cl.TokenUse != "access" {`,
			`if cl.TokenUse == "id" {`}},
	},
	{
		name: "token: client_id not checked against the accepted clients",
		pkgs: tokenPkgs,
		edits: []edit{{"services/token/profile.go",
			`if cl.ClientID == "" || !slices.Contains(c.ClientIDs, cl.ClientID) {`,
			`if cl.ClientID == "" || !slices.Contains(append(slices.Clone(c.ClientIDs), cl.ClientID), cl.ClientID) {`}},
	},
	{
		name: "token: any non-empty iss accepted",
		pkgs: tokenPkgs,
		edits: []edit{{"services/token/verifier.go",
			`if c.Issuer != v.issuer {`,
			`if c.Issuer == "" {`}},
	},
	{
		name: "token: exp honoured a day late",
		pkgs: tokenPkgs,
		edits: []edit{{"services/token/verifier.go",
			`if !now.Before(c.Expiry.Add(Leeway)) {`,
			`if !now.Before(c.Expiry.Add(24 * time.Hour)) {`}},
	},
	{
		name: "token: nbf ignored",
		pkgs: tokenPkgs,
		edits: []edit{{"services/token/verifier.go",
			`if c.NotBefore != nil && now.Add(Leeway).Before(c.NotBefore.Time) {`,
			`if c.NotBefore != nil && false {`}},
	},
	{
		name: "token: signature not checked",
		pkgs: tokenPkgs,
		edits: []edit{{"services/token/verifier.go",
			`if err := verifyRS256(pub, t.SigningInput, t.Signature); err != nil {`,
			`if err := verifyRS256(pub, t.SigningInput, t.Signature); err != nil && false {`}},
	},
	{
		name: "token cache: expired entries still served",
		pkgs: tokenPkgs,
		edits: []edit{{"services/token/cache.go",
			`if !ok || !now.Before(e.exp) {`,
			`if !ok {`}},
	},

	// The stores' reserve (the quota condition).
	{
		name: "sqlitestore: reservations in flight not counted against the limit",
		pkgs: sqlitePkgs,
		edits: []edit{{"services/store/sqlitestore/stmts.go",
			`WHERE used >= 0 AND reserved >= 0 AND used <= ?4 AND reserved <= ?4 - used`,
			`WHERE used >= 0 AND reserved >= 0 AND used <= ?4`}},
	},
	{
		name: "sqlitestore: the request's own amount left out of the limit check",
		pkgs: sqlitePkgs,
		edits: []edit{{"services/store/sqlitestore/sqlitestore.go",
			`res, err := tx.exec(tx.holdIfFits, h.Key, h.Amount, h.ResetsAt.UnixNano(), h.Limit.Max-h.Amount)`,
			`res, err := tx.exec(tx.holdIfFits, h.Key, h.Amount, h.ResetsAt.UnixNano(), h.Limit.Max)`}},
	},
	{
		name: "sqlitestore: a request larger than the whole limit admitted",
		pkgs: sqlitePkgs,
		edits: []edit{{"services/store/sqlitestore/sqlitestore.go",
			`if h.Amount <= h.Limit.Max {`,
			`if true || h.Amount <= h.Limit.Max {`}},
	},
	{
		name: "dynamostore: quota condition always true",
		pkgs: dynamoPkgs,
		edits: []edit{{"services/store/dynamostore/reserve.go",
			`"(attribute_not_exists(#c) OR (#c >= :zero AND #c <= :max)) AND NOT contains(#h, :idv)"`,
			`"(attribute_not_exists(#c) OR #c >= :zero) AND NOT contains(#h, :idv)"`}},
	},
	{
		name: "dynamostore: the request's own amount left out of the limit check",
		pkgs: dynamoPkgs,
		edits: []edit{{"services/store/dynamostore/reserve.go",
			`":max": num(h.Limit.Max - h.Amount)`,
			`":max": num(h.Limit.Max)`}},
	},
	{
		name: "dynamostore: a request larger than the whole limit admitted",
		pkgs: dynamoPkgs,
		edits: []edit{{"services/store/dynamostore/reserve.go",
			`if h.Amount <= h.Limit.Max {`,
			`if true || h.Amount <= h.Limit.Max {`}},
	},

	// Policy: default deny and group matching.
	{
		name: "policy: a model no grant names is allowed",
		pkgs: policyPkgs,
		edits: []edit{{"services/policy/entitlements.go",
			`if g.models[id] {`,
			`if g.models[id] || id != "" {`}},
	},
	{
		name: "policy: an endpoint no grant names is allowed",
		pkgs: policyPkgs,
		edits: []edit{{"services/policy/entitlements.go",
			`if g.endpoints[name] {`,
			`if g.endpoints[name] || name != "" {`}},
	},
	{
		name: "policy: a person gets every group's grants",
		pkgs: policyPkgs,
		edits: []edit{{"services/policy/policy.go",
			`if pr.InGroup(g.name) {`,
			`if pr.InGroup(g.name) || g.name != "" {`}},
	},
	{
		name: "policy: a machine client gets every scope's grants",
		pkgs: policyPkgs,
		edits: []edit{{"services/policy/policy.go",
			`if pr.HasScope(g.name) {`,
			`if pr.HasScope(g.name) || g.name != "" {`}},
	},
	{
		name: "policy: every person is a usage admin",
		pkgs: policyPkgs,
		edits: []edit{{"services/policy/policy.go",
			`if pr.InGroup(g) {`,
			`if pr.InGroup(g) || g != "" {`}},
	},
	{
		name: "policy: every person is a policy admin",
		pkgs: policyPkgs,
		edits: []edit{{"services/policy/policy.go",
			`slices.ContainsFunc(p.policyAdmins, pr.InGroup)`,
			`len(p.policyAdmins) > 0`}},
	},
	{
		name: "policy: an edit may name no policy admin",
		pkgs: policyPkgs,
		edits: []edit{{"services/policy/validate.go",
			`if v.opts.requirePolicyAdmin && len(p.policyAdmins) == 0 {`,
			`if false {`}},
	},

	// The BFF's returnTo validation (open redirects).
	{
		name: "returnTo: \"//host\" allowed (every // check removed)",
		pkgs: returnToPkgs,
		edits: []edit{
			{"bff/oidcflow/returnto.go", `if len(s) == 0 || s[0] != '/' || strings.HasPrefix(s, "//") {`, `if len(s) == 0 || s[0] != '/' {`},
			{"bff/oidcflow/returnto.go", `return !strings.Contains(path, "//")`, `return true`},
			{"bff/oidcflow/returnto.go", `u.Scheme != "" || u.Host != "" ||`, `u.Scheme != "" ||`},
		},
	},
	{
		name: "returnTo: backslashes allowed",
		pkgs: returnToPkgs,
		edits: []edit{{"bff/oidcflow/returnto.go",
			`if c <= ' ' || c == 0x7f || c == '\\' || c >= 0x80 {`,
			`if c <= ' ' || c == 0x7f || c >= 0x80 {`}},
	},
	{
		name: "returnTo: percent-decoded forms not checked",
		pkgs: returnToPkgs,
		edits: []edit{{"bff/oidcflow/returnto.go",
			`if err != nil || !safeLocalPath(next) {`,
			`if err != nil {`}},
	},
	{
		name: "returnTo: \"..\" segments allowed",
		pkgs: returnToPkgs,
		edits: []edit{{"bff/oidcflow/returnto.go",
			`if seg == "." || seg == ".." {`,
			`if seg == "." {`}},
	},

	// The BFF proxy's procedure allowlist.
	{
		name: "proxy: allowlist not enforced",
		pkgs: allowlistPkgs,
		edits: []edit{{"bff/proxy/proxy.go",
			`if !p.cfg.Allowlist[procedure] {`,
			`if !p.cfg.Allowlist[procedure] && false {`}},
	},
}

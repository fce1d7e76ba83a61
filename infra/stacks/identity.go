package stacks

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"unicode"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/portico-dev/portico/infra/config"
)

// Names fixed by the contracts: the services and the policy refer to them. The Cognito
// groups are configuration (identity.groups).
const (
	EntraProviderName = config.EntraProviderName
	ResourceServerID  = "portico"
	ScopeInference    = "inference"
	ScopeIdentity     = "identity"
)

// SAML claim URIs Entra ID sends (the enterprise application's default claims plus the
// department and groups claims added in docs/deploy.md).
const (
	claimEmail      = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
	claimGivenName  = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"
	claimSurname    = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"
	claimDepartment = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/department"
	claimGroups     = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
)

// User pool custom attributes the Entra mapping writes. Both feed the pre token generation
// trigger, so whoever could write custom:groups could choose their groups, and
// custom:department the department their usage is charged to.
const (
	AttrDepartment = "custom:department"
	AttrGroups     = "custom:groups"
)

// customName is a custom attribute's name without the "custom:" prefix (the CDK's form).
func customName(attr string) string { return strings.TrimPrefix(attr, "custom:") }

// webClientScopes are the web client's OAuth scopes: OpenID Connect only, never
// aws.cognito.signin.user.admin (which lets a token update its own user's attributes).
func webClientScopes() *[]awscognito.OAuthScope {
	return &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL(), awscognito.OAuthScope_PROFILE()}
}

// groupIDSuffix turns a group name into a construct id suffix: ASCII letters and digits kept,
// every other rune written as _<hex code point>_, so distinct names never collide.
func groupIDSuffix(name string) string {
	var b strings.Builder
	for _, r := range name {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			fmt.Fprintf(&b, "_%x_", r)
		}
	}
	return b.String()
}

// identity is how people and machines sign in, as the services, the authorizer and the BFF
// are told: through the Cognito user pool (identity.mode cognito) or at Entra ID directly
// (identity.mode entra). The BFF's cookie keys live here in both modes.
type identity struct {
	// issuer is the token issuer the BFF signs in at and the services and authorizer accept.
	issuer *string
	// webClientID is the BFF's OAuth client id; webSecretARN the secret holding its secret.
	webClientID, webSecretARN *string
	// clientIDs are the client ids (Cognito's client_id, Entra's azp) the services accept.
	clientIDs []*string
	// tokenEnv is the services' and the authorizer's token profile settings; bffEnv the BFF's
	// provider-specific settings (scopes, the identity provider hint, break-glass).
	tokenEnv, bffEnv map[string]*string
	cookieKeys       awssecretsmanager.Secret
	// cognito is the user pool and its parts; nil with Entra ID directly.
	cognito *cognitoPool
}

// cognitoPool is the Cognito side: user pool, Entra SAML federation, groups, clients, secrets.
type cognitoPool struct {
	pool          awscognito.UserPool
	domain        awscognito.UserPoolDomain
	webClient     awscognito.UserPoolClient
	machineClient awscognito.UserPoolClient
	webSecret     awssecretsmanager.Secret
	machineSecret awssecretsmanager.Secret
	// preToken is the pre token generation trigger (V2_0): Entra groups to Cognito groups,
	// and the department into access tokens.
	preToken *goFunction
}

// Token profile settings of the services and the authorizer (services/token).
const (
	EnvTokenProfile = "PORTICO_TOKEN_PROFILE"
	EnvEntraTenant  = "PORTICO_ENTRA_TENANT_ID"
	EnvEntraAud     = "PORTICO_ENTRA_AUDIENCE"
	EnvEntraScope   = "PORTICO_ENTRA_SCOPE"
)

// BFF settings that depend on the provider (bff/config).
const (
	EnvOIDCScopes       = "PORTICO_OIDC_SCOPES"
	EnvIdentityProvider = "PORTICO_OIDC_IDENTITY_PROVIDER"
	EnvBreakGlassGroup  = "PORTICO_OIDC_BREAK_GLASS_GROUP"
	EnvRefreshTokenTTL  = "PORTICO_OIDC_REFRESH_TOKEN_TTL"
)

// EntraBaseScopes are the OpenID scopes the BFF asks Entra ID for besides the API's scope:
// offline_access brings the refresh token.
const EntraBaseScopes = "openid email profile offline_access"

// cognitoIssuer is the user pool's token issuer.
func (e *env) cognitoIssuer(pool awscognito.UserPool) *string {
	return jsii.String(fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", e.cfg.Region, *pool.UserPoolId()))
}

// FormActionOrigin is the origin the pages may post forms to besides their own: the token
// issuer's, as the BFF sets it (bff/headers).
func FormActionOrigin(cfg *config.Config) string {
	if cfg.IsEntra() {
		return config.EntraLogin
	}
	return "https://cognito-idp." + cfg.Region + ".amazonaws.com"
}

// Environment of the pre token generation trigger (services/cmd/portico-pretoken).
const (
	EnvEntraGroups           = "PORTICO_ENTRA_GROUPS"
	EnvAccessTokenDepartment = "PORTICO_ACCESS_TOKEN_DEPARTMENT"
)

// newIdentity creates the BFF's cookie keys and, with Cognito, the user pool and its parts.
// With Entra ID directly the stack creates nothing at the provider: the app registrations and
// the web app's client secret are the operator's (docs/deploy.md).
func (e *env) newIdentity(scope constructs.Construct) *identity {
	c := constructs.NewConstruct(scope, jsii.String("Identity"))
	cfg := e.cfg
	id := &identity{}
	id.cookieKeys = awssecretsmanager.NewSecret(c, jsii.String("CookieKeys"), &awssecretsmanager.SecretProps{
		SecretName:    jsii.String(cfg.Name("bff-cookie-keys")),
		Description:   jsii.String("PORTICO_COOKIE_KEYS of the BFF: kid:base64(32 bytes),... (first seals). Set and rotate as docs/deploy.md says."),
		EncryptionKey: e.key,
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
			// A placeholder that is not a valid key list: the BFF refuses to start until an
			// operator sets real keys (docs/deploy.md, "Secrets").
			PasswordLength:     jsii.Number(32),
			ExcludePunctuation: jsii.Bool(true),
		},
		RemovalPolicy: e.removal(),
	})
	if cfg.IsEntra() {
		ent := cfg.Identity.Entra
		id.issuer = jsii.String(cfg.EntraIssuer())
		id.webClientID = jsii.String(ent.WebClientID)
		id.webSecretARN = jsii.String(ent.ClientSecretARN)
		id.clientIDs = *jsii.Strings(cfg.EntraClientIDs()...)
		id.tokenEnv = map[string]*string{
			EnvTokenProfile: jsii.String(config.IdentityEntra),
			EnvEntraTenant:  jsii.String(ent.TenantID),
			EnvEntraAud:     jsii.String(ent.APIClientID),
			EnvEntraScope:   jsii.String(cfg.EntraScopeValue()),
		}
		// No identity provider hint (Entra is no Cognito) and no break-glass group (there are
		// no local users); Entra sets its own refresh token lifetime.
		id.bffEnv = map[string]*string{EnvOIDCScopes: jsii.String(EntraBaseScopes + " " + ent.Scope)}
		return id
	}
	p := e.newCognito(c)
	id.cognito = p
	id.issuer = e.cognitoIssuer(p.pool)
	id.webClientID = p.webClient.UserPoolClientId()
	id.webSecretARN = p.webSecret.SecretArn()
	id.clientIDs = []*string{p.webClient.UserPoolClientId(), p.machineClient.UserPoolClientId()}
	id.tokenEnv = map[string]*string{}
	id.bffEnv = map[string]*string{
		// Entra ID's sign-in at once; /auth/login?idp=local asks for Cognito's own sign-in
		// instead, which admits local users of the break-glass group only.
		EnvIdentityProvider: jsii.String(EntraProviderName),
		EnvBreakGlassGroup:  jsii.String(cfg.BreakGlassGroup()),
		EnvRefreshTokenTTL:  jsii.String(cfg.Identity.RefreshTokenTTL.String()),
	}
	return id
}

// newCognito creates the user pool with the Entra SAML federation, the groups and their
// trigger, the web and machine clients and their secrets, under c.
func (e *env) newCognito(c constructs.Construct) *cognitoPool {
	cfg := e.cfg
	id := &cognitoPool{}
	featurePlan := awscognito.FeaturePlan_ESSENTIALS
	threat := awscognito.StandardThreatProtectionMode_NO_ENFORCEMENT
	if cfg.Identity.ThreatProtection {
		featurePlan = awscognito.FeaturePlan_PLUS
		threat = awscognito.StandardThreatProtectionMode_FULL_FUNCTION
	}
	id.pool = awscognito.NewUserPool(c, jsii.String("UserPool"), &awscognito.UserPoolProps{
		UserPoolName:        jsii.String(cfg.Name("users")),
		SelfSignUpEnabled:   jsii.Bool(false),
		SignInAliases:       &awscognito.SignInAliases{Email: jsii.Bool(true), Username: jsii.Bool(true)},
		SignInCaseSensitive: jsii.Bool(false),
		PasswordPolicy: &awscognito.PasswordPolicy{
			MinLength:            jsii.Number(14),
			RequireLowercase:     jsii.Bool(true),
			RequireUppercase:     jsii.Bool(true),
			RequireDigits:        jsii.Bool(true),
			RequireSymbols:       jsii.Bool(true),
			TempPasswordValidity: awscdk.Duration_Days(jsii.Number(3)),
		},
		// MFA applies to local (break-glass, administrator) users; federated users get
		// Entra ID's conditional access instead.
		Mfa:                          awscognito.Mfa_REQUIRED,
		MfaSecondFactor:              &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		AccountRecovery:              awscognito.AccountRecovery_EMAIL_ONLY,
		FeaturePlan:                  featurePlan,
		StandardThreatProtectionMode: threat,
		CustomAttributes: &map[string]awscognito.ICustomAttribute{
			"department": awscognito.NewStringAttribute(&awscognito.StringAttributeProps{MaxLen: jsii.Number(256), Mutable: jsii.Bool(true)}),
			"groups":     awscognito.NewStringAttribute(&awscognito.StringAttributeProps{MaxLen: jsii.Number(2048), Mutable: jsii.Bool(true)}),
		},
		DeletionProtection: jsii.Bool(cfg.Protect),
		RemovalPolicy:      e.removal(),
	})

	entra := awscognito.NewUserPoolIdentityProviderSaml(c, jsii.String("Entra"), &awscognito.UserPoolIdentityProviderSamlProps{
		UserPool: id.pool,
		Name:     jsii.String(EntraProviderName),
		Metadata: awscognito.UserPoolIdentityProviderSamlMetadata_Url(jsii.String(cfg.Identity.EntraMetadataURL)),
		// No SAML single logout: Cognito sends its signed LogoutRequest to Entra by redirect
		// and requires the IdP's LogoutResponse back by HTTP POST (Cognito developer guide,
		// "Signing out SAML users with single sign-out"), while Entra ID answers single
		// sign-out by redirect binding (HTTP GET) only, not HTTP POST (Microsoft identity
		// platform, "Single sign-out SAML protocol"). With it on, logout would end on an
		// error page of Cognito's. Logout ends the Portico session, revokes the refresh token
		// and ends the Cognito session; the Entra session stays (docs/deploy.md, "Sign-out").
		IdpSignout:         jsii.Bool(false),
		IdpInitiated:       jsii.Bool(false),
		EncryptedResponses: jsii.Bool(false),
		AttributeMapping: &awscognito.AttributeMapping{
			Email:      awscognito.ProviderAttribute_Other(jsii.String(claimEmail)),
			GivenName:  awscognito.ProviderAttribute_Other(jsii.String(claimGivenName)),
			FamilyName: awscognito.ProviderAttribute_Other(jsii.String(claimSurname)),
			Custom: &map[string]awscognito.ProviderAttribute{
				AttrDepartment: awscognito.ProviderAttribute_Other(jsii.String(claimDepartment)),
				AttrGroups:     awscognito.ProviderAttribute_Other(jsii.String(claimGroups)),
			},
		},
	})

	for _, g := range cfg.Identity.Groups {
		var desc *string
		if g.Description != "" {
			desc = jsii.String(g.Description)
		}
		awscognito.NewCfnUserPoolGroup(c, jsii.String("Group"+groupIDSuffix(g.Name)), &awscognito.CfnUserPoolGroupProps{
			UserPoolId:  id.pool.UserPoolId(),
			GroupName:   jsii.String(g.Name),
			Description: desc,
		})
	}

	// One pre token generation trigger per pool, event version V2_0 (the Essentials or Plus
	// plan above): the only version whose response reaches the access token, where the
	// services read groups and the department. Its role may write its logs and nothing else.
	entraGroups := map[string]string{}
	maps.Copy(entraGroups, cfg.Identity.EntraGroups)
	groups, err := json.Marshal(entraGroups)
	if err != nil {
		panic(err) // a map[string]string always marshals
	}
	id.preToken = e.newGoFunction(c, "PreToken", goFunctionProps{
		name:        "pretoken",
		asset:       PretokenAsset,
		description: "Cognito pre token generation (V2_0): Entra groups to Portico groups, the department into access tokens",
		memory:      128,
		timeout:     awscdk.Duration_Seconds(jsii.Number(5)),
		environment: map[string]*string{
			EnvEntraGroups:           jsii.String(string(groups)),
			EnvAccessTokenDepartment: jsii.String(strconv.FormatBool(cfg.DepartmentClaim())),
		},
		modeless: true,
	})
	id.pool.AddTrigger(awscognito.UserPoolOperation_PRE_TOKEN_GENERATION_CONFIG(), id.preToken.fn, awscognito.LambdaVersion_V2_0)

	id.domain = id.pool.AddDomain(jsii.String("Domain"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: jsii.String(cfg.Identity.DomainPrefix)},
	})

	inference := awscognito.NewResourceServerScope(&awscognito.ResourceServerScopeProps{ScopeName: jsii.String(ScopeInference), ScopeDescription: jsii.String("Call the Inference service")})
	identityScope := awscognito.NewResourceServerScope(&awscognito.ResourceServerScopeProps{ScopeName: jsii.String(ScopeIdentity), ScopeDescription: jsii.String("Call the Identity service")})
	rs := id.pool.AddResourceServer(jsii.String("ResourceServer"), &awscognito.UserPoolResourceServerOptions{
		Identifier:                 jsii.String(ResourceServerID),
		UserPoolResourceServerName: jsii.String("Portico"),
		Scopes:                     &[]awscognito.ResourceServerScope{inference, identityScope},
	})

	access := awscdk.Duration_Minutes(jsii.Number(cfg.Identity.AccessTokenTTL.Minutes()))
	refresh := awscdk.Duration_Minutes(jsii.Number(cfg.Identity.RefreshTokenTTL.Minutes()))
	id.webClient = id.pool.AddClient(jsii.String("WebClient"), &awscognito.UserPoolClientOptions{
		UserPoolClientName: jsii.String(cfg.Name("web")),
		GenerateSecret:     jsii.Bool(true),
		AuthFlows:          &awscognito.AuthFlow{}, // no password flows: the hosted UI only
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true)},
			Scopes:       webClientScopes(),
			CallbackUrls: jsii.Strings(cfg.PublicURL() + "/auth/callback"),
			LogoutUrls:   jsii.Strings(cfg.PublicURL() + "/"),
		},
		// Entra ID for everyone; COGNITO for the break-glass sign-in of local users
		// (/auth/login?idp=local), which the BFF admits in the break-glass group only.
		// Nobody signs up: the pool allows administrator-created users only.
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{
			awscognito.UserPoolClientIdentityProvider_Custom(entra.ProviderName()),
			awscognito.UserPoolClientIdentityProvider_COGNITO(),
		},
		AccessTokenValidity:        access,
		IdTokenValidity:            access,
		RefreshTokenValidity:       refresh,
		EnableTokenRevocation:      jsii.Bool(true),
		PreventUserExistenceErrors: jsii.Bool(true),
		// Exactly what the Entra mapping writes at federated sign-in: Cognito refuses the
		// sign-in when the client lacks write access to a mapped attribute. No token of this
		// client can write them itself (webClientScopes has no aws.cognito.signin.user.admin,
		// there is no password or SRP flow), and the refresh token and the client secret stay
		// with the BFF.
		WriteAttributes: awscognito.NewClientAttributes().
			WithStandardAttributes(&awscognito.StandardAttributesMask{Email: jsii.Bool(true), GivenName: jsii.Bool(true), FamilyName: jsii.Bool(true)}).
			WithCustomAttributes(jsii.String(customName(AttrDepartment)), jsii.String(customName(AttrGroups))),
	})
	id.webClient.Node().AddDependency(entra)

	id.machineClient = id.pool.AddClient(jsii.String("MachineClient"), &awscognito.UserPoolClientOptions{
		UserPoolClientName: jsii.String(cfg.Name("machine")),
		GenerateSecret:     jsii.Bool(true),
		AuthFlows:          &awscognito.AuthFlow{},
		OAuth: &awscognito.OAuthSettings{
			Flows: &awscognito.OAuthFlows{ClientCredentials: jsii.Bool(true)},
			Scopes: &[]awscognito.OAuthScope{
				awscognito.OAuthScope_ResourceServer(rs, inference),
				awscognito.OAuthScope_ResourceServer(rs, identityScope),
			},
		},
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
		AccessTokenValidity:        access,
		EnableTokenRevocation:      jsii.Bool(true),
		PreventUserExistenceErrors: jsii.Bool(true),
		// A client-credentials client has no users: it may write no attribute at all.
		WriteAttributes: awscognito.NewClientAttributes(),
	})

	// No password flows at all: the L2 leaves ExplicitAuthFlows unset for an empty AuthFlow,
	// which Cognito reads as SRP and custom auth allowed.
	for _, cl := range []awscognito.UserPoolClient{id.webClient, id.machineClient} {
		cl.Node().DefaultChild().(awscognito.CfnUserPoolClient).SetExplicitAuthFlows(jsii.Strings("ALLOW_REFRESH_TOKEN_AUTH"))
	}

	id.webSecret = e.clientSecret(c, "WebClientSecret", "web-client", id.webClient)
	id.machineSecret = e.clientSecret(c, "MachineClientSecret", "machine-client", id.machineClient)
	return id
}

// clientSecret stores an app client's generated secret in Secrets Manager, encrypted with the
// environment's key. The value comes from CloudFormation's ClientSecret attribute at deploy
// time; it never appears in the template.
func (e *env) clientSecret(scope constructs.Construct, id, name string, client awscognito.UserPoolClient) awssecretsmanager.Secret {
	cfn := client.Node().DefaultChild().(awscognito.CfnUserPoolClient)
	return awssecretsmanager.NewSecret(scope, jsii.String(id), &awssecretsmanager.SecretProps{
		SecretName:        jsii.String(e.cfg.Name(name)),
		Description:       jsii.String("Cognito app client secret of " + e.cfg.Name(name)),
		EncryptionKey:     e.key,
		SecretStringValue: awscdk.SecretValue_ResourceAttribute(cfn.AttrClientSecret()),
		RemovalPolicy:     e.removal(),
	})
}

// bareRole is an execution role allowed to write its own log streams and decrypt its
// environment, nothing else.
func (e *env) bareRole(scope constructs.Construct, id, fnName string) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Execution role of " + fnName + " (logs only)"),
	})
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("WriteOwnLogs"),
		Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(e.logStreamsARN("/aws/lambda/" + fnName)),
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("DecryptEnvironment"),
		Actions:   jsii.Strings("kms:Decrypt"),
		Resources: &[]*string{e.key.KeyArn()},
	}))
	return role
}

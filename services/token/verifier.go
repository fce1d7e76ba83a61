package token

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	"github.com/portico-dev/portico/services/principal"
)

// Leeway is the clock skew tolerated on exp, nbf and iat.
const Leeway = 30 * time.Second

// Verifier verifies access tokens of one issuer. It is safe for concurrent use.
type Verifier struct {
	issuer  string
	keys    *KeySet
	profile Profile
	now     func() time.Time
	cache   *resultCache
	// departmentClaim, when set, is where a person's department is read from (the profile
	// reads custom:department).
	departmentClaim string
}

// Option configures a Verifier.
type Option func(*verifierConfig)

type verifierConfig struct {
	keys            *KeySet
	keyOpts         []KeySetOption
	now             func() time.Time
	cacheSize       int
	departmentClaim string
}

// DefaultDepartmentClaim is the claim a person's department is read from unless
// WithDepartmentClaim names another: Cognito's custom attribute.
const DefaultDepartmentClaim = "custom:department"

// WithDepartmentClaim reads a person's department from the named claim of the access token
// (a string; anything else leaves the department empty) instead of custom:department. An
// empty name keeps the default.
func WithDepartmentClaim(name string) Option {
	return func(c *verifierConfig) { c.departmentClaim = name }
}

// WithKeySet uses ks instead of a KeySet built for the issuer.
func WithKeySet(ks *KeySet) Option {
	return func(c *verifierConfig) { c.keys = ks }
}

// WithKeySetOptions passes options to the KeySet the Verifier builds.
func WithKeySetOptions(opts ...KeySetOption) Option {
	return func(c *verifierConfig) { c.keyOpts = append(c.keyOpts, opts...) }
}

// WithClock replaces time.Now for the time checks and the key refresh interval.
func WithClock(now func() time.Time) Option {
	return func(c *verifierConfig) { c.now = now }
}

// WithCacheSize sets how many verified tokens are remembered (DefaultCacheSize); 0 disables
// the cache.
func WithCacheSize(n int) Option {
	return func(c *verifierConfig) { c.cacheSize = n }
}

// NewVerifier returns a Verifier for tokens whose iss is exactly issuer and which profile
// accepts. Keys come from the issuer's discovery document unless WithKeySet says otherwise.
func NewVerifier(issuer string, profile Profile, opts ...Option) *Verifier {
	c := verifierConfig{now: time.Now, cacheSize: DefaultCacheSize}
	for _, o := range opts {
		o(&c)
	}
	if c.keys == nil {
		c.keys = NewKeySet(issuer, append([]KeySetOption{withClock(c.now)}, c.keyOpts...)...)
	}
	v := &Verifier{
		issuer:  issuer,
		keys:    c.keys,
		profile: profile,
		now:     c.now,
		cache:   newResultCache(c.cacheSize),
	}
	if c.departmentClaim != DefaultDepartmentClaim {
		v.departmentClaim = c.departmentClaim
	}
	return v
}

// Issuer returns the issuer the Verifier accepts.
func (v *Verifier) Issuer() string { return v.issuer }

// KeySet returns the Verifier's key set, for warming it at start-up with Refresh.
func (v *Verifier) KeySet() *KeySet { return v.keys }

// Verify checks raw (a compact JWS, without any "Bearer " prefix) and returns the principal
// it names. The principal may be shared with other callers presenting the same token and must
// not be modified. Errors wrap the package's sentinel errors and are meant for logs only.
func (v *Verifier) Verify(ctx context.Context, raw string) (*principal.Principal, error) {
	// Parse checks the size too; checking it here first keeps a huge input from being hashed.
	if len(raw) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformed, len(raw), MaxTokenSize)
	}
	now := v.now()
	key := v.cache.key(raw)
	if e, ok := v.cache.get(key, now); ok {
		// The result stands while the key set still holds the key that verified it, so a
		// key the issuer removed stops admitting its tokens from the cache as well. Anything
		// else (a replaced key, a fetch error) is settled by verifying the token again.
		if pub, err := v.keys.Key(ctx, e.kid); err == nil && pub == e.pub {
			return e.p, nil
		}
	}
	t, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	if t.Header.Alg != "RS256" {
		return nil, fmt.Errorf("%w: %q", ErrAlgorithm, t.Header.Alg)
	}
	if len(t.Header.Crit) > 0 {
		return nil, fmt.Errorf("%w: unsupported crit %q", ErrMalformed, t.Header.Crit)
	}
	pub, err := v.keys.Key(ctx, t.Header.Kid)
	if err != nil {
		return nil, err
	}
	if err := verifyRS256(pub, t.SigningInput, t.Signature); err != nil {
		return nil, err
	}
	c, err := ParseClaims(t.Payload)
	if err != nil {
		return nil, err
	}
	if c.Issuer != v.issuer {
		return nil, fmt.Errorf("%w: %q", ErrIssuer, c.Issuer)
	}
	if err := checkTimes(c, now); err != nil {
		return nil, err
	}
	p, err := v.profile.Principal(c)
	if err != nil {
		return nil, err
	}
	if v.departmentClaim != "" && p.Kind == principal.KindPerson {
		p.Department = stringClaim(t.Payload, v.departmentClaim)
	}
	v.cache.put(key, cacheEntry{p: p, exp: c.Expiry.Time, kid: t.Header.Kid, pub: pub}, now)
	return p, nil
}

// stringClaim returns the string claim name of a JWT payload already decoded once (so it is
// valid JSON), or "" when it is absent or not a string.
func stringClaim(payload []byte, name string) string {
	var all map[string]json.RawMessage
	if json.Unmarshal(payload, &all) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(all[name], &s) != nil {
		return ""
	}
	return s
}

func verifyRS256(pub *rsa.PublicKey, signingInput string, sig []byte) error {
	h := sha256.Sum256([]byte(signingInput))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		return fmt.Errorf("%w: %w", ErrSignature, err)
	}
	return nil
}

func checkTimes(c *Claims, now time.Time) error {
	if c.Expiry == nil {
		return fmt.Errorf("%w: no exp", ErrExpired)
	}
	if !now.Before(c.Expiry.Add(Leeway)) {
		return fmt.Errorf("%w: exp %s", ErrExpired, c.Expiry.Format(time.RFC3339))
	}
	if c.NotBefore != nil && now.Add(Leeway).Before(c.NotBefore.Time) {
		return fmt.Errorf("%w: nbf %s", ErrNotYetValid, c.NotBefore.Format(time.RFC3339))
	}
	if c.IssuedAt != nil && now.Add(Leeway).Before(c.IssuedAt.Time) {
		return fmt.Errorf("%w: iat %s", ErrNotYetValid, c.IssuedAt.Format(time.RFC3339))
	}
	return nil
}

package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// NumericDate is a JWT time: seconds since the Unix epoch, possibly fractional.
type NumericDate struct {
	time.Time
}

// UnmarshalJSON reads a JSON number of seconds; it refuses negative, NaN and huge values.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("numeric date: %w", err)
	}
	if math.IsNaN(f) || f < 0 || f > 1<<40 {
		return fmt.Errorf("numeric date %s out of range", b)
	}
	sec, frac := math.Modf(f)
	d.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}

// Audience is the aud claim, which JWT allows as a string or an array of strings.
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

// Contains reports whether aud names s.
func (a Audience) Contains(s string) bool {
	for _, v := range a {
		if v == s {
			return true
		}
	}
	return false
}

// Claims are the claims Portico reads from a token. Registered claims are checked by the
// Verifier; the rest are for a Profile to check and map.
type Claims struct {
	// Registered claims (RFC 7519).
	Issuer    string       `json:"iss"`
	Subject   string       `json:"sub"`
	Audience  Audience     `json:"aud"`
	Expiry    *NumericDate `json:"exp"`
	NotBefore *NumericDate `json:"nbf"`
	IssuedAt  *NumericDate `json:"iat"`
	ID        string       `json:"jti"`

	// Cognito claims.
	TokenUse   string   `json:"token_use"`
	ClientID   string   `json:"client_id"`
	Scope      string   `json:"scope"`
	Groups     []string `json:"cognito:groups"`
	Username   string   `json:"username"`
	Department string   `json:"custom:department"`

	// OpenID Connect profile claims, when the issuer adds them.
	Email string `json:"email"`
	Name  string `json:"name"`

	// Microsoft Entra ID claims, for the Entra profile.
	Roles             []string `json:"roles"`
	EntraGroups       []string `json:"groups"`
	AuthorizedParty   string   `json:"azp"`
	AppID             string   `json:"appid"`
	DelegatedScope    string   `json:"scp"`
	ObjectID          string   `json:"oid"`
	PreferredUsername string   `json:"preferred_username"`
	TokenType         string   `json:"idtyp"`
	TenantID          string   `json:"tid"`
	Version           string   `json:"ver"`
	// ClaimNames and HasGroups signal Entra's groups overage (distributed claims).
	ClaimNames map[string]any `json:"_claim_names"`
	HasGroups  any            `json:"hasgroups"`
}

// ParseClaims decodes a JWT payload.
func ParseClaims(payload []byte) (*Claims, error) {
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	return &c, nil
}

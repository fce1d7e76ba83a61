// Package session holds a signed-in browser's session: who the user is and the tokens the
// BFF keeps for them, sealed into cookies (the default) or kept in a Store with only a ticket
// in the cookie.
package session

import (
	"crypto/rand"
	"encoding/base64"
	"time"
)

// User is what the BFF tells the SPA about the signed-in person.
type User struct {
	// Subject is the ID token's stable `sub`.
	Subject string `json:"subject"`
	// Username is the Cognito user name (`cognito:username` or `username`), or else
	// `preferred_username` (Entra ID's user principal name).
	Username string `json:"username"`
	// Email is the e-mail address, when shared.
	Email string `json:"email"`
	// Name is the display name, when shared.
	Name string `json:"name"`
	// Groups are the user's groups (`cognito:groups`; else Entra's app roles `roles` and
	// group object ids `groups`), sorted.
	Groups []string `json:"groups"`
}

// Session is one signed-in browser.
type Session struct {
	// ID is random; it names the session in a Store and for one-refresh-at-a-time.
	ID string `json:"id"`
	// User is the signed-in person.
	User User `json:"user"`
	// AccessToken is attached to proxied calls as a Bearer token.
	AccessToken string `json:"at"`
	// AccessExpiry is when AccessToken expires.
	AccessExpiry time.Time `json:"atExp"`
	// RefreshToken obtains new access tokens; it is revoked at logout.
	RefreshToken string `json:"rt,omitempty"`
	// IDToken is kept only for a provider with RP-initiated logout, as its id_token_hint.
	IDToken string `json:"idt,omitempty"`
	// Created is when the user signed in.
	Created time.Time `json:"created"`
	// Expires is the absolute end of the session; it never passes the refresh token's.
	Expires time.Time `json:"exp"`
	// LastSeen is when the session was last used, for the idle timeout.
	LastSeen time.Time `json:"seen"`
}

// NewID returns a random 128-bit session id.
func NewID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error
	return base64.RawURLEncoding.EncodeToString(b)
}

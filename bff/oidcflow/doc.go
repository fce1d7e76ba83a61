// Package oidcflow signs people in through an OpenID provider (Amazon Cognito, Microsoft
// Entra ID or another standard provider, or the dev IdP) as a confidential client, keeps
// their tokens in a session, and refreshes them.
//
// Sign-in is the authorization code flow with PKCE (S256); state, nonce and the code
// verifier travel in a short-lived sealed cookie. The callback exchanges the code with
// golang.org/x/oauth2, verifies the ID token with go-oidc and compares the nonce itself
// (go-oidc does not), ends any earlier session (fixation) and starts a new one. Authorize
// hands the proxy a fresh access token, refreshing one at a time per session. Logout revokes
// the refresh token and returns the provider's logout URL: RP-initiated logout through the
// discovery document's end_session_endpoint (its state checked by SignedOut), or Cognito's
// /logout when there is none. Claims the ID token lacks come from userinfo; Entra ID's
// multi-tenant issuer is checked against an explicit tenant list.
package oidcflow

// Package identity implements portico.identity.v1.IdentityService: GetMe tells a verified
// caller who it is to Portico and what the policy entitles it to.
//
// The handler expects the authn middleware in front of it (it reads the principal from the
// context) and checks again that a machine client holds the portico/identity scope.
package identity

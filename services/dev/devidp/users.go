package devidp

import (
	_ "embed"
	"errors"
	"fmt"
	"slices"

	"github.com/goccy/go-yaml"
	"github.com/google/uuid"
)

// User is a person who can sign in at the login form.
type User struct {
	// Username is the sign-in name (Cognito's username and cognito:username).
	Username string `yaml:"username"`
	// Password is compared in constant time at sign-in.
	Password string `yaml:"password"`
	// Subject is the stable sub claim; derived from Username when empty.
	Subject string `yaml:"sub"`
	// Email is the verified e-mail address.
	Email string `yaml:"email"`
	// GivenName and FamilyName make up the name claim.
	GivenName  string `yaml:"given_name"`
	FamilyName string `yaml:"family_name"`
	// Department becomes the custom:department claim.
	Department string `yaml:"department"`
	// Groups become cognito:groups (omitted when empty).
	Groups []string `yaml:"groups"`
}

// Name is the user's full name.
func (u *User) Name() string {
	switch {
	case u.GivenName == "":
		return u.FamilyName
	case u.FamilyName == "":
		return u.GivenName
	default:
		return u.GivenName + " " + u.FamilyName
	}
}

//go:embed users.yaml
var defaultUsersYAML []byte

// subjectNamespace derives stable subjects (UUIDv5) from usernames.
var subjectNamespace = uuid.MustParse("8f3c1c52-7d0e-4b8e-9a57-52f1d0b7b6a1")

// DefaultUsers returns the embedded dev users alice, dana, bob and carol (password "portico-dev").
func DefaultUsers() []User {
	users, err := ParseUsers(defaultUsersYAML)
	if err != nil {
		panic(fmt.Sprintf("devidp: embedded users.yaml: %v", err))
	}
	return users
}

// ParseUsers parses a users file: a YAML document with a users list (see users.yaml).
// Unknown fields, duplicate usernames and users without a username or password are errors.
func ParseUsers(data []byte) ([]User, error) {
	var doc struct {
		Users []User `yaml:"users"`
	}
	if err := yaml.UnmarshalWithOptions(data, &doc, yaml.DisallowUnknownField()); err != nil {
		return nil, fmt.Errorf("parse users: %w", err)
	}
	if len(doc.Users) == 0 {
		return nil, errors.New("parse users: no users")
	}
	seen := make(map[string]bool, len(doc.Users))
	for i := range doc.Users {
		u := &doc.Users[i]
		if u.Username == "" || u.Password == "" {
			return nil, fmt.Errorf("parse users: user %d: username and password are required", i+1)
		}
		if seen[u.Username] {
			return nil, fmt.Errorf("parse users: duplicate username %q", u.Username)
		}
		seen[u.Username] = true
		if u.Subject == "" {
			u.Subject = uuid.NewSHA1(subjectNamespace, []byte(u.Username)).String()
		}
		u.Groups = slices.Clone(u.Groups)
	}
	return doc.Users, nil
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// User pool attributes the trigger reads (written by the Entra SAML mapping, infra/stacks).
const (
	attrDepartment = "custom:department"
	attrGroups     = "custom:groups"
)

// ClaimDepartment is the access token claim the department is written to: the services'
// default PORTICO_DEPARTMENT_CLAIM.
const ClaimDepartment = "custom:department"

// trigger is the Lambda handler. It takes the raw event so that an event it cannot read is
// returned as it came instead of failing the sign-in.
type trigger struct {
	cfg    *config
	logger *slog.Logger
}

// response is the part of a V2_0 response the trigger writes; what it leaves out, Cognito
// leaves as it would have issued it.
type response struct {
	ClaimsAndScopeOverrideDetails *overrides `json:"claimsAndScopeOverrideDetails,omitempty"`
}

// overrides is claimsAndScopeOverrideDetails: access token claims and the groups.
type overrides struct {
	AccessTokenGeneration *accessToken    `json:"accessTokenGeneration,omitempty"`
	GroupOverrideDetails  *groupOverrides `json:"groupOverrideDetails,omitempty"`
}

// accessToken is accessTokenGeneration: the claims added to the access token only.
type accessToken struct {
	ClaimsToAddOrOverride map[string]any `json:"claimsToAddOrOverride"`
}

// groupOverrides is groupOverrideDetails: the groups of cognito:groups in both tokens.
type groupOverrides struct {
	GroupsToOverride []string `json:"groupsToOverride"`
}

// Invoke answers one pre token generation event (lambda.Handler). It never returns an error:
// a sign-in must not fail because of this trigger.
func (t *trigger) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	out, err := t.answer(payload)
	if err != nil {
		// The reason names a JSON type or offset at most, never a value from the event.
		t.logger.Warn("pre token generation: event returned unchanged", "reason", err)
		return payload, nil
	}
	return out, nil
}

// errNotObject is the reason for an event that is not a JSON object.
var errNotObject = errors.New("the event is not a JSON object")

// answer returns the event with the trigger's response, or an error saying (without any of
// its content) why the event cannot be read.
func (t *trigger) answer(payload []byte) ([]byte, error) {
	var event map[string]json.RawMessage
	if err := json.Unmarshal(payload, &event); err != nil {
		return nil, describe(err)
	}
	if event == nil {
		return nil, errNotObject
	}
	var in events.CognitoEventUserPoolsPreTokenGenV2_0
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, describe(err)
	}
	resp, err := json.Marshal(t.respond(in.Request))
	if err != nil {
		return nil, describe(err)
	}
	event["response"] = resp
	return json.Marshal(event)
}

// respond computes the response to a request: the mapped Entra groups added to Cognito's,
// and the department in the access token, each only when there is something to add.
func (t *trigger) respond(req events.CognitoEventUserPoolsPreTokenGenRequestV2_0) response {
	var o overrides
	if t.cfg.department {
		if d := req.UserAttributes[attrDepartment]; d != "" {
			o.AccessTokenGeneration = &accessToken{ClaimsToAddOrOverride: map[string]any{ClaimDepartment: d}}
		}
	}
	if groups, changed := t.groups(req); changed {
		o.GroupOverrideDetails = &groupOverrides{GroupsToOverride: groups}
	}
	if o.AccessTokenGeneration == nil && o.GroupOverrideDetails == nil {
		return response{}
	}
	return response{ClaimsAndScopeOverrideDetails: &o}
}

// groups returns Cognito's groups with the groups the user's mapped Entra group ids confer,
// sorted, and whether that adds any. custom:groups holds the ids as Entra sends them: one id,
// or a bracketed, comma-separated list.
func (t *trigger) groups(req events.CognitoEventUserPoolsPreTokenGenRequestV2_0) ([]string, bool) {
	current := req.GroupConfiguration.GroupsToOverride
	groups := slices.Clone(current)
	for _, id := range strings.Split(strings.Trim(req.UserAttributes[attrGroups], "[] "), ",") {
		if g, ok := t.cfg.entraGroups[strings.TrimSpace(id)]; ok && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	if len(groups) == len(current) {
		return nil, false
	}
	slices.Sort(groups)
	return groups, true
}

// describe turns a JSON error into a reason that carries no content of the event: the JSON
// encoding errors may quote a value.
func describe(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return errors.New("the event is not valid JSON")
	case errors.As(err, &typ) && typ.Field == "":
		return errors.New("the event is a JSON " + typ.Value + ", not an object")
	case errors.As(err, &typ):
		return errors.New("the event's " + typ.Field + " is a JSON " + typ.Value + ", of the wrong type")
	default:
		return errors.New("the event cannot be read or answered")
	}
}

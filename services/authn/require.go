package authn

import (
	"context"
	"errors"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
)

// Principal returns the caller the middleware put in ctx, or Unauthenticated (which means the
// handler was mounted without the middleware).
func Principal(ctx context.Context) (*principal.Principal, error) {
	p, ok := principal.FromContext(ctx)
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("no verified caller"))
	}
	return p, nil
}

// RequireScope returns the caller if it may use a service guarded by scope: people always
// (their groups decide what they may use), machine clients only when their token holds scope
// (PermissionDenied otherwise).
func RequireScope(ctx context.Context, scope string) (*principal.Principal, error) {
	p, err := Principal(ctx)
	if err != nil {
		return nil, err
	}
	if p.Kind == principal.KindMachine && !p.HasScope(scope) {
		return nil, connect.NewError(connect.CodePermissionDenied, errors.New("missing scope "+scope))
	}
	return p, nil
}

// RequireUsageAdmin returns nil when the caller may read everyone's usage under pol, and
// PermissionDenied otherwise (Unauthenticated when there is no caller).
func RequireUsageAdmin(ctx context.Context, pol *policy.Policy) error {
	p, err := Principal(ctx)
	if err != nil {
		return err
	}
	if !pol.IsUsageAdmin(p) {
		return connect.NewError(connect.CodePermissionDenied, errors.New("reading everyone's usage needs a usage-admin group"))
	}
	return nil
}

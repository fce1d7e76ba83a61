package inference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"connectrpc.com/connect"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/metering"
)

// providerCall is what one RPC adds to the metered call: a request checked for the admitted
// model, its worst case, and the provider call itself.
type providerCall struct {
	// tokens is the worst case to reserve: the estimated input plus the most output.
	tokens int64
	// maxOutput is the part of tokens that is output, for the worst-case cost.
	maxOutput int64
	// run calls the provider once the worst case is held, and returns what it used, even
	// when it fails.
	run func(ctx context.Context) (metering.Usage, error)
}

// metered runs the metered call that every model and endpoint RPC is: admit the caller for
// id of provider; prepare (the RPC's own checks and estimate; its refusal is audited);
// reserve the worst case; run the provider call; normalise its error; settle what it used on
// success, error, client cancel and panic alike; log a failure. It returns the admission (its
// request id names the audit record) and the invocation's metrics; every error carries the
// request id once it is known.
func (s *Service) metered(ctx context.Context, id string, provider catalog.Provider, prepare func(*admission) (providerCall, error)) (*admission, *typev1.InvocationMetrics, error) {
	a, err := s.admit(ctx, id, provider, s.now())
	if err != nil {
		return nil, nil, err
	}
	pc, err := prepare(a)
	if err != nil {
		return nil, nil, s.refuse(ctx, a, err)
	}
	a.req.Tokens, a.req.MaxOutput = pc.tokens, pc.maxOutput
	mc, err := s.meter.Reserve(ctx, a.req)
	if err != nil {
		return nil, nil, withRequestID(err, a.req.RequestID)
	}
	defer settleOnPanic(ctx, mc, pc.tokens)
	u, callErr := pc.run(ctx)
	callErr = normalize(ctx, callErr)
	metrics := mc.Settle(ctx, u, callErr) // under context.WithoutCancel: a client gone is settled
	if callErr != nil {
		s.logCallError(ctx, a, callErr)
		return nil, nil, withRequestID(callErr, a.req.RequestID)
	}
	return a, metrics, nil
}

// normalize makes every call error a *connect.Error with a user-safe message.
func normalize(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	if ctx.Err() != nil {
		return connect.NewError(connect.CodeCanceled, errors.New("the request was canceled"))
	}
	return connect.NewError(connect.CodeInternal, errors.New("internal error"))
}

// settleOnPanic settles a call whose provider panicked, then lets the panic go on (the
// server's recovery turns it into INTERNAL). What the provider used is unknown, so the call
// is charged what it reserved (its worst case), marked estimated.
func settleOnPanic(ctx context.Context, mc *metering.Call, reserved int64) {
	if r := recover(); r != nil {
		mc.Settle(ctx, metering.Usage{InputTokens: reserved, Estimated: true}, connect.NewError(connect.CodeInternal, errors.New("internal error")))
		panic(r)
	}
}

func (s *Service) logCallError(ctx context.Context, a *admission, err error) {
	s.log.LogAttrs(ctx, slog.LevelWarn, "model call failed", slog.String("request_id", a.req.RequestID),
		slog.String("model", a.model.ID), slog.String("user", a.p.Username),
		slog.String("code", connect.CodeOf(err).String()), slog.String("cause", fmt.Sprint(errors.Unwrap(err))))
}

// setResponseHeader sets the request id header on a unary answer.
func setResponseHeader(ctx context.Context, id string) {
	if ci, ok := connect.CallInfoForHandlerContext(ctx); ok {
		ci.ResponseHeader().Set(RequestIDHeader, id)
	}
}

package server

import (
	"context"
	"time"

	"connectrpc.com/connect"
)

// deadlineInterceptor gives an RPC without a client deadline the default one, and caps a
// client deadline at the maximum.
type deadlineInterceptor struct{ def, max time.Duration }

func (d deadlineInterceptor) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok {
		if d.max > 0 && time.Until(deadline) > d.max {
			return context.WithTimeout(ctx, d.max)
		}
		return ctx, func() {}
	}
	if d.def <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d.def)
}

func (d deadlineInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		ctx, cancel := d.bound(ctx)
		defer cancel()
		return next(ctx, req)
	}
}

func (d deadlineInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (d deadlineInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, cancel := d.bound(ctx)
		defer cancel()
		return next(ctx, conn)
	}
}

// rpcInfoInterceptor records the procedure and outcome code for the access log.
type rpcInfoInterceptor struct{}

func record(ctx context.Context, procedure string, err error) {
	info := rpcInfoFrom(ctx)
	if info == nil {
		return
	}
	info.procedure, info.err = procedure, err
	if err == nil {
		info.code = "ok"
	} else {
		info.code = connect.CodeOf(err).String()
	}
}

func (rpcInfoInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		resp, err := next(ctx, req)
		if !req.Spec().IsClient {
			record(ctx, req.Spec().Procedure, err)
		}
		return resp, err
	}
}

func (rpcInfoInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (rpcInfoInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		err := next(ctx, conn)
		record(ctx, conn.Spec().Procedure, err)
		return err
	}
}

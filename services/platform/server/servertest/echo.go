// Package servertest holds a tiny Connect service for tests of servers and transports (the
// h2c server, the Lambda adapters, the BFF proxy). It uses well-known wrapper messages, so it
// needs no generated code of its own; it is not registered for reflection.
package servertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Service and procedure names of the test service.
const (
	ServiceName       = "portico.test.v1.EchoService"
	EchoProcedure     = "/" + ServiceName + "/Echo"
	CountProcedure    = "/" + ServiceName + "/Count"
	PanicProcedure    = "/" + ServiceName + "/Panic"
	SleepProcedure    = "/" + ServiceName + "/Sleep"
	HeadersProcedure  = "/" + ServiceName + "/Headers"
	DefaultCountPause = 50 * time.Millisecond
	maxCount          = 1000
)

// Options configure the test service.
type Options struct {
	// CountPause is the pause between two messages of Count (default DefaultCountPause).
	CountPause time.Duration
}

// NewHandler returns the mount path and handler of the test service:
//   - Echo (unary) answers "echo: <request>" and sets response header "Echo-Header: yes"
//     and trailer "Echo-Trailer: yes".
//   - Count (server streaming) sends "1" … "n" for a request n, pausing between messages and
//     stopping early when the context ends.
//   - Panic (unary) panics.
//   - Sleep (unary) blocks until its context ends and returns the context's error.
//   - Headers (unary) answers with the request's header named by the request, comma-joined.
func NewHandler(o Options, opts ...connect.HandlerOption) (string, http.Handler) {
	if o.CountPause == 0 {
		o.CountPause = DefaultCountPause
	}
	mux := http.NewServeMux()
	mux.Handle(EchoProcedure, connect.NewUnaryHandler(EchoProcedure,
		func(_ context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
			resp := connect.NewResponse(wrapperspb.String("echo: " + req.Msg.GetValue()))
			resp.Header().Set("Echo-Header", "yes")
			resp.Trailer().Set("Echo-Trailer", "yes")
			return resp, nil
		}, opts...))
	mux.Handle(CountProcedure, connect.NewServerStreamHandler(CountProcedure,
		func(ctx context.Context, req *connect.Request[wrapperspb.UInt32Value], stream *connect.ServerStream[wrapperspb.StringValue]) error {
			n := min(req.Msg.GetValue(), maxCount)
			for i := uint32(1); i <= n; i++ {
				if i > 1 {
					select {
					case <-ctx.Done():
						return fmt.Errorf("count: %w", ctx.Err())
					case <-time.After(o.CountPause):
					}
				}
				if err := stream.Send(wrapperspb.String(fmt.Sprint(i))); err != nil {
					return fmt.Errorf("count: %w", err)
				}
			}
			return nil
		}, opts...))
	mux.Handle(PanicProcedure, connect.NewUnaryHandler(PanicProcedure,
		func(context.Context, *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
			panic("servertest: deliberate panic")
		}, opts...))
	mux.Handle(SleepProcedure, connect.NewUnaryHandler(SleepProcedure,
		func(ctx context.Context, _ *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
			<-ctx.Done()
			return nil, fmt.Errorf("sleep: %w", ctx.Err())
		}, opts...))
	mux.Handle(HeadersProcedure, connect.NewUnaryHandler(HeadersProcedure,
		func(_ context.Context, req *connect.Request[wrapperspb.StringValue]) (*connect.Response[wrapperspb.StringValue], error) {
			if req.Msg.GetValue() == "" {
				return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("header name required"))
			}
			return connect.NewResponse(wrapperspb.String(strings.Join(req.Header().Values(req.Msg.GetValue()), ","))), nil
		}, opts...))
	return "/" + ServiceName + "/", mux
}

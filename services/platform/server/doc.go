// Package server builds Portico's standalone RPC server: one h2c port (HTTP/1.1 and
// unencrypted HTTP/2, via net/http's Protocols) serving Connect, gRPC and gRPC-Web.
//
// The handler tree is
//
//	stack growth (gostack) + request id + access log + panic recovery → mux
//	    GET /healthz                             no authentication
//	    gRPC reflection v1 and v1alpha          no authentication
//	    gRPC health (grpc.health.v1.Health)      no authentication
//	    everything else → auth middleware → request-id adoption → the mounted services
//
// Every request gets an id of the server's own, fresh or the Lambda request id (X-Request-Id
// on the answer, request_id on every log line of the request); a caller's X-Request-Id is
// adopted instead only when the caller the auth middleware verified passes WithTrustedCaller
// (the BFF, which assigns the id the browser sees), so one request has one id from the
// browser to the audit record.
//
// Services are mounted with the connect handler options from HandlerOptions, which carry
// OpenTelemetry (otelconnect), per-RPC log fields, a default per-RPC deadline, message size
// limits, compression settings and panic recovery that turns a panic into Internal.
//
// Typical use:
//
//	srv, err := server.New(server.WithLogger(log), server.WithAuth(authMiddleware),
//		server.WithTelemetry(providers))
//	srv.Mount(identityv1connect.NewIdentityServiceHandler(identity, srv.HandlerOptions()...))
//	err = srv.Run(ctx, "localhost:8081", lambdaCfg) // standalone, or Lambda when lambdaCfg.OnLambda()
package server

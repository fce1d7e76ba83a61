package client

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"connectrpc.com/connect"
)

// Protocol is the RPC protocol a Client speaks.
type Protocol string

// The protocols. Portico's services serve all three on a standalone (h2c) server; on Lambda,
// behind a Function URL or API Gateway, only Connect and gRPC-Web work, because gRPC needs
// HTTP/2 trailers that neither passes.
const (
	// ProtocolGRPC is gRPC over HTTP/2 (h2c for http:// URLs): standalone servers only.
	ProtocolGRPC Protocol = "grpc"
	// ProtocolConnect is the Connect protocol over HTTP/1.1 or HTTP/2: every deployment.
	ProtocolConnect Protocol = "connect"
	// ProtocolGRPCWeb is gRPC-Web over HTTP/1.1 or HTTP/2: every deployment.
	ProtocolGRPCWeb Protocol = "grpcweb"
)

// ParseProtocol parses "grpc", "connect" or "grpcweb" (also "grpc-web"), case-insensitively.
// The empty string parses to the empty Protocol, which New replaces with DefaultProtocol.
func ParseProtocol(s string) (Protocol, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", nil
	case string(ProtocolGRPC):
		return ProtocolGRPC, nil
	case string(ProtocolConnect):
		return ProtocolConnect, nil
	case string(ProtocolGRPCWeb), "grpc-web":
		return ProtocolGRPCWeb, nil
	}
	return "", fmt.Errorf("client: unknown protocol %q (want grpc, connect or grpcweb)", s)
}

// DefaultProtocol returns the protocol to use for a services URL when none is configured:
// gRPC for a plain-HTTP URL on a loopback host (the standalone server of `make dev`, which
// speaks h2c), and Connect for everything else. Connect works with every deployment,
// standalone or on Lambda behind a Function URL or API Gateway (https://…execute-api…),
// while gRPC works only with a standalone server; so only a URL that can only be a local
// standalone server gets gRPC by default.
func DefaultProtocol(baseURL string) Protocol {
	u, err := url.Parse(baseURL)
	if err != nil || !strings.EqualFold(u.Scheme, "http") {
		return ProtocolConnect
	}
	if isLoopback(u.Hostname()) {
		return ProtocolGRPC
	}
	return ProtocolConnect
}

func isLoopback(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// option returns the connect client option selecting p.
func (p Protocol) option() connect.ClientOption {
	switch p {
	case ProtocolGRPC:
		return connect.WithGRPC()
	case ProtocolGRPCWeb:
		return connect.WithGRPCWeb()
	}
	return connect.WithClientOptions() // Connect is connect-go's default
}

// transport returns the default transport for p: HTTP/2 only for gRPC (see
// NewHTTP2Transport), and for Connect and gRPC-Web the standard transport, which speaks
// HTTP/1.1 or negotiates HTTP/2 over TLS, as Lambda Function URLs and API Gateway expect.
func (p Protocol) transport() http.RoundTripper {
	if p == ProtocolGRPC {
		return NewHTTP2Transport()
	}
	return http.DefaultTransport.(*http.Transport).Clone()
}

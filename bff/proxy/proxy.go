// Package proxy forwards the browser's Connect and gRPC-Web calls under /api/ to the
// services: only allowlisted procedures, only with the CSRF guard passed, with only an
// allowlist of the browser's request headers (content negotiation and protocol headers) and
// the BFF's own Authorization, Portico-Client-*, deadline, X-Request-Id and trace context.
// Request bodies are read whole (bounded) before forwarding; responses stream as they
// arrive.
package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/bff/requestid"
)

// Defaults of Config's limits.
const (
	DefaultMaxBodyBytes = 8 << 20
	DefaultTimeout      = 5 * time.Minute
)

// deadlineGrace is how long past the deadline it forwards the BFF waits for the services'
// own answer before giving up on the call itself.
const deadlineGrace = time.Second

// deadlineKey holds the deadline forwarded to the services in a request's context.
type deadlineKey struct{}

// Prefix is the path under which the proxy serves.
const Prefix = "/api"

// Trusted headers the BFF sets for the services (docs/contracts.md).
const (
	HeaderClientIP        = "Portico-Client-Ip"
	HeaderClientUserAgent = "Portico-Client-User-Agent"
)

// Authorizer returns the access token to forward for r, writing any refreshed session
// cookie to w. Its errors should be connect errors (Unauthenticated, Unavailable).
type Authorizer func(w http.ResponseWriter, r *http.Request) (string, error)

// Checker refuses requests that may come from another site (the CSRF guard).
type Checker interface {
	Check(r *http.Request) error
}

// Config configures a Proxy.
type Config struct {
	// Upstream is the services' base URL (http:// is spoken as h2c).
	Upstream *url.URL
	// Transport forwards requests; nil means NewTransport(Upstream).
	Transport http.RoundTripper
	// Allowlist is the set of forwarded procedures.
	Allowlist Allowlist
	// Guard checks every request before anything else.
	Guard Checker
	// Authorize supplies the access token.
	Authorize Authorizer
	// MaxBodyBytes and Timeout limit each call; zero means the defaults. A browser may ask
	// for a shorter deadline (Connect-Timeout-Ms, Grpc-Timeout), never a longer one.
	MaxBodyBytes int64
	Timeout      time.Duration
	// Logger receives structured logs; never tokens or cookies.
	Logger *slog.Logger
	// TrustViewerAddress takes the client address from CloudFront's CloudFront-Viewer-Address
	// header. Set it only when CloudFront alone can reach the BFF (a Function URL with
	// AWS_IAM auth behind origin access control); otherwise a caller could choose its address.
	TrustViewerAddress bool
}

// Proxy is the /api/ handler.
type Proxy struct {
	cfg Config
	rp  *httputil.ReverseProxy
}

type tokenKey struct{}

// NewTransport returns the BFF's own transport to the services: h2c for http:// URLs (one
// multiplexed connection), HTTP/1.1 or HTTP/2 over TLS otherwise.
func NewTransport(upstream *url.URL) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	t.ResponseHeaderTimeout = 0 // streams take their time; Config.Timeout bounds calls
	if upstream.Scheme == "http" {
		var p http.Protocols
		p.SetUnencryptedHTTP2(true)
		t.Protocols = &p
	}
	return t
}

// New returns a Proxy.
func New(cfg Config) (*Proxy, error) {
	if cfg.Upstream == nil || cfg.Guard == nil || cfg.Authorize == nil || cfg.Allowlist == nil {
		return nil, errors.New("proxy: upstream, guard, authorizer and allowlist are required")
	}
	if cfg.Transport == nil {
		cfg.Transport = NewTransport(cfg.Upstream)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{cfg: cfg}
	upstreamPath := strings.TrimSuffix(cfg.Upstream.Path, "/")
	p.rp = &httputil.ReverseProxy{
		Transport:     cfg.Transport,
		FlushInterval: -1, // flush after every write: streams pass chunk by chunk
		BufferPool:    newBufferPool(),
		Rewrite: func(pr *httputil.ProxyRequest) {
			out := pr.Out
			out.URL.Scheme = cfg.Upstream.Scheme
			out.URL.Host = cfg.Upstream.Host
			out.URL.Path = upstreamPath + strings.TrimPrefix(pr.In.URL.Path, Prefix)
			out.URL.RawPath = ""
			out.Host = ""
			remaining := cfg.Timeout
			if deadline, ok := pr.In.Context().Value(deadlineKey{}).(time.Time); ok { // ServeHTTP always sets one
				remaining = time.Until(deadline)
			}
			out.Header = upstreamHeader(out.Header, remaining, requestid.FromContext(pr.In.Context()))
			out.Header.Set("Authorization", "Bearer "+pr.In.Context().Value(tokenKey{}).(string))
			out.Header.Set(HeaderClientIP, clientIP(pr.In, cfg.TrustViewerAddress))
			if ua := pr.In.UserAgent(); ua != "" {
				out.Header.Set(HeaderClientUserAgent, ua)
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Del("Set-Cookie") // the services never set cookies on the BFF's origin
			// The browser has the request id from the BFF already (the services adopted it):
			// once, not twice.
			resp.Header.Del(requestid.Header)
			return nil
		},
		ErrorHandler: p.upstreamError,
	}
	return p, nil
}

// clientIP returns the browser's address: CloudFront's viewer address when trusted (its
// "ip:port" has no brackets for IPv6), else the connection's peer.
func clientIP(r *http.Request, trustViewer bool) string {
	if v := r.Header.Get("Cloudfront-Viewer-Address"); trustViewer && v != "" {
		if i := strings.LastIndexByte(v, ':'); i > 0 {
			if ip := net.ParseIP(v[:i]); ip != nil {
				return ip.String()
			}
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// ServeHTTP checks, authorizes and forwards one call.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := p.cfg.Guard.Check(r); err != nil {
		writeError(w, r, err)
		return
	}
	procedure := strings.TrimPrefix(r.URL.Path, Prefix)
	if !p.cfg.Allowlist[procedure] {
		writeError(w, r, connect.NewError(connect.CodeNotFound, fmt.Errorf("unknown procedure %q", truncate(procedure, 128))))
		return
	}
	if r.ContentLength > p.cfg.MaxBodyBytes {
		writeError(w, r, errTooLarge(p.cfg.MaxBodyBytes))
		return
	}
	timeout, err := clientTimeout(r.Header)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if timeout <= 0 || timeout > p.cfg.Timeout {
		timeout = p.cfg.Timeout
	}
	token, err := p.cfg.Authorize(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	ctx := context.WithValue(r.Context(), tokenKey{}, token)
	if requestid.FromContext(ctx) == "" {
		// Served outside the BFF's handler (which assigns every request its id): assign one.
		id := requestid.New()
		ctx = requestid.NewContext(ctx, id)
		w.Header().Set(requestid.Header, id)
	}
	// The services get the call's deadline; the BFF itself waits deadlineGrace longer, so
	// their deadline_exceeded answer (for a stream, a whole end-of-stream message) reaches the
	// browser instead of a response the BFF cut off mid-message at the same instant.
	deadline := time.Now().Add(timeout)
	ctx = context.WithValue(ctx, deadlineKey{}, deadline)
	ctx, cancel := context.WithDeadline(ctx, deadline.Add(deadlineGrace))
	defer cancel()
	r = r.WithContext(ctx)
	if err := bufferBody(w, r, p.cfg.MaxBodyBytes); err != nil {
		writeError(w, r, err)
		return
	}
	p.rp.ServeHTTP(w, r)
}

// bufferBody reads the whole request body (at most limit bytes) before anything is
// forwarded. Browsers send each call's request as one complete message (Connect unary and
// server streaming, gRPC-Web), so nothing is lost by waiting for it, and much is gained: an
// oversize body is refused before the services see it, and the transport never reads the
// body concurrently with the server, which otherwise races when the upstream answers
// before the body is sent (an HTTP/1.1 server closes or rereads an unread body).
func bufferBody(w http.ResponseWriter, r *http.Request, limit int64) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			return errTooLarge(limit)
		}
		return connect.NewError(connect.CodeCanceled, fmt.Errorf("read request body: %w", err))
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.Header.Del("Transfer-Encoding")
	return nil
}

func (p *Proxy) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(r.Context().Err(), context.Canceled):
		// The browser went away; the upstream call has been cancelled with it.
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, r, connect.NewError(connect.CodeDeadlineExceeded, errors.New("the call took too long")))
	default:
		p.cfg.Logger.WarnContext(r.Context(), "upstream call failed", "procedure", r.URL.Path, "err", err)
		writeError(w, r, connect.NewError(connect.CodeUnavailable, errors.New("the service is unavailable")))
	}
}

func errTooLarge(limit int64) error {
	return connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("request body larger than %s bytes", strconv.FormatInt(limit, 10)))
}

var errorWriter = connect.NewErrorWriter()

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Cache-Control", "no-store")
	_ = errorWriter.Write(w, r, err)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/portico-dev/portico/gen/go/portico/admin/v1/adminv1connect"
	"github.com/portico-dev/portico/gen/go/portico/conversation/v1/conversationv1connect"
	"github.com/portico-dev/portico/gen/go/portico/identity/v1/identityv1connect"
	"github.com/portico-dev/portico/gen/go/portico/inference/v1/inferencev1connect"
)

// Defaults of Config, matching the dev stack.
const (
	DefaultBaseURL      = "http://localhost:8081"
	DefaultIssuer       = "http://localhost:9000"
	DefaultClientID     = "portico-machine"
	DefaultClientSecret = "portico-machine-secret"
)

// Config says where the services and the issuer are and who the client is.
type Config struct {
	// BaseURL is the services' URL (DefaultBaseURL).
	BaseURL string
	// Issuer is the OpenID issuer whose discovery document names the token endpoint
	// (DefaultIssuer).
	Issuer string
	// TokenURL skips discovery when set.
	TokenURL string
	// ClientID and ClientSecret are the machine client's credentials (the dev machine client).
	ClientID, ClientSecret string
	// Scopes to request; none asks for every scope the client is allowed.
	Scopes []string
	// Protocol is the RPC protocol; empty means DefaultProtocol(BaseURL): gRPC for
	// http://localhost (a standalone server), Connect for anything else.
	Protocol Protocol
	// HTTPClient carries the RPCs. By default: for gRPC, one speaking HTTP/2 only (h2c for
	// http:// URLs); for Connect and gRPC-Web, one speaking HTTP/1.1 or HTTP/2 over TLS.
	HTTPClient *http.Client
	// TokenHTTPClient carries discovery and token requests (http.DefaultClient).
	TokenHTTPClient *http.Client
	// Retry bounds retries on Unavailable.
	Retry Retry
	// Options are added to every connect client.
	Options []connect.ClientOption
}

// Client holds clients of Portico's services, authenticated as a machine client, that all
// speak one protocol.
type Client struct {
	// Identity calls IdentityService.
	Identity identityv1connect.IdentityServiceClient
	// Inference calls InferenceService.
	Inference inferencev1connect.InferenceServiceClient
	// Admin calls AdminService.
	Admin adminv1connect.AdminServiceClient
	// Conversations calls ConversationService. Conversations are kept for people only: a
	// machine client's calls answer PERMISSION_DENIED.
	Conversations conversationv1connect.ConversationServiceClient

	tokens   oauth2.TokenSource
	protocol Protocol
	tokenURL string
}

// New returns a Client. It looks the token endpoint up now (unless TokenURL is set); tokens
// are requested on the first call and renewed shortly before they expire.
func New(ctx context.Context, cfg Config) (*Client, error) {
	cfg.BaseURL = or(cfg.BaseURL, DefaultBaseURL)
	cfg.Issuer = or(cfg.Issuer, DefaultIssuer)
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = DefaultClientID, or(cfg.ClientSecret, DefaultClientSecret)
	}
	if cfg.TokenHTTPClient == nil {
		cfg.TokenHTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	protocol, err := ParseProtocol(string(cfg.Protocol))
	if err != nil {
		return nil, err
	}
	if protocol == "" {
		protocol = DefaultProtocol(cfg.BaseURL)
	}
	cfg.Protocol = protocol
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: cfg.Protocol.transport()}
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		if tokenURL, err = discoverTokenURL(ctx, cfg.TokenHTTPClient, cfg.Issuer); err != nil {
			return nil, err
		}
	}
	cc := clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     tokenURL,
		Scopes:       cfg.Scopes,
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	// The token source outlives ctx: it must keep refreshing for the client's lifetime.
	tctx := context.WithValue(context.WithoutCancel(ctx), oauth2.HTTPClient, cfg.TokenHTTPClient)
	c := &Client{tokens: cc.TokenSource(tctx), protocol: cfg.Protocol, tokenURL: tokenURL}
	opts := append([]connect.ClientOption{
		cfg.Protocol.option(),
		connect.WithInterceptors(cfg.Retry.Interceptor(), bearer(c.tokens)),
	}, cfg.Options...)
	c.Identity = identityv1connect.NewIdentityServiceClient(cfg.HTTPClient, cfg.BaseURL, opts...)
	c.Inference = inferencev1connect.NewInferenceServiceClient(cfg.HTTPClient, cfg.BaseURL, opts...)
	c.Admin = adminv1connect.NewAdminServiceClient(cfg.HTTPClient, cfg.BaseURL, opts...)
	c.Conversations = conversationv1connect.NewConversationServiceClient(cfg.HTTPClient, cfg.BaseURL, opts...)
	return c, nil
}

// Token returns the current access token, fetching one if needed.
func (c *Client) Token() (*oauth2.Token, error) { return c.tokens.Token() }

// Protocol returns the protocol the clients speak.
func (c *Client) Protocol() Protocol { return c.protocol }

// TokenURL returns the token endpoint in use (discovered, or Config.TokenURL).
func (c *Client) TokenURL() string { return c.tokenURL }

// NewHTTP2Transport returns a transport that speaks HTTP/2 only: over TLS for https:// URLs
// and with prior knowledge (h2c) for http:// URLs, as the gRPC protocol needs.
func NewHTTP2Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP2(true)
	t.Protocols.SetUnencryptedHTTP2(true)
	return t
}

func discoverTokenURL(ctx context.Context, hc *http.Client, issuer string) (string, error) {
	url := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("client: discovery: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("client: discovery: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("client: discovery: GET %s: %s", url, resp.Status)
	}
	var doc struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return "", fmt.Errorf("client: discovery: %w", err)
	}
	if doc.TokenEndpoint == "" {
		return "", errors.New("client: discovery document has no token_endpoint")
	}
	return doc.TokenEndpoint, nil
}

// bearer adds the current access token to every call.
func bearer(ts oauth2.TokenSource) connect.Interceptor {
	return &bearerInterceptor{ts: ts}
}

type bearerInterceptor struct{ ts oauth2.TokenSource }

func (b *bearerInterceptor) header() (string, error) {
	t, err := b.ts.Token()
	if err != nil {
		return "", connect.NewError(connect.CodeUnauthenticated, fmt.Errorf("client: token: %w", err))
	}
	return "Bearer " + t.AccessToken, nil
}

func (b *bearerInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		h, err := b.header()
		if err != nil {
			return nil, err
		}
		req.Header().Set("Authorization", h)
		return next(ctx, req)
	}
}

func (b *bearerInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		h, err := b.header()
		if err != nil {
			// Fail the stream here, with the token error, rather than send it without a token
			// and get the server's "missing bearer token" instead of the reason.
			return &failedConn{StreamingClientConn: conn, err: err}
		}
		conn.RequestHeader().Set("Authorization", h)
		return conn
	}
}

// failedConn is a stream that fails every Send and Receive with err. It never starts the
// wrapped call (closing that would send a request, without a token).
type failedConn struct {
	connect.StreamingClientConn
	err error
}

func (c *failedConn) Send(any) error       { return c.err }
func (c *failedConn) Receive(any) error    { return c.err }
func (c *failedConn) CloseRequest() error  { return nil }
func (c *failedConn) CloseResponse() error { return nil }

func (b *bearerInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

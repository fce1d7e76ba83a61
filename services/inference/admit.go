package inference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/metering"
	"github.com/portico-dev/portico/services/platform/telemetry"
	"github.com/portico-dev/portico/services/policy"
	"github.com/portico-dev/portico/services/principal"
)

// Headers the BFF sets for the services (docs/contracts.md), and the one Portico answers
// with.
const (
	ClientIPHeader        = "Portico-Client-Ip"
	ClientUserAgentHeader = "Portico-Client-User-Agent"
	// RequestIDHeader carries Portico's id of the request, which names its audit record,
	// on answers and errors alike. It is the request's X-Request-Id (services/server).
	RequestIDHeader = "Portico-Request-Id"
)

// maxUserAgent bounds the user agent recorded.
const maxUserAgent = 512

// admission is a request that passed authorisation.
type admission struct {
	p     *principal.Principal
	ent   policy.Entitlements
	model catalog.Model
	req   metering.Request
	// sources are the retrieved passages as citations, nil without a knowledge base.
	sources []*inferencev1.Citation
}

// admit authorises a request for id (a model id or endpoint name of provider): a verified
// caller with the inference scope, entitled to id, which the catalog knows. Refusals after
// the caller is known are recorded in the audit trail.
func (s *Service) admit(ctx context.Context, id string, provider catalog.Provider, arrived time.Time) (*admission, error) {
	p, err := authn.RequireScope(ctx, authn.ScopeInference)
	if err != nil {
		return nil, err
	}
	var (
		spec connect.Spec
		peer connect.Peer
		h    http.Header
	)
	if ci, ok := connect.CallInfoForHandlerContext(ctx); ok {
		spec, peer, h = ci.Spec(), ci.Peer(), ci.RequestHeader()
	} else if c, ok := ctx.Value(callKey{}).(Call); ok {
		spec.Procedure, peer.Addr, h = c.Procedure, c.PeerAddr, c.Header
	}
	ip, ua := s.clientOf(p, peer, h)
	// The audit record is named by the request's id: the server's, or the BFF's it adopted.
	rid := telemetry.RequestIDFromContext(ctx)
	if rid == "" {
		rid = telemetry.NewRequestID() // served without services/server (tests, embedding)
	}
	a := &admission{p: p, ent: s.policy().Entitlements(p), req: metering.Request{
		RequestID: rid, Procedure: spec.Procedure, ModelID: id, Provider: provider,
		Principal: p, SourceIP: ip, UserAgent: ua, Arrived: arrived,
	}}
	field, method, other, otherMethod := "model_id", "Converse", catalog.ProviderSageMaker, "InvokeEndpoint"
	if provider == catalog.ProviderSageMaker {
		field, method, other, otherMethod = "endpoint_name", "InvokeEndpoint", catalog.ProviderBedrock, "Converse"
	}
	if id == "" {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%s is required", field))
	}
	if !allows(a.ent, provider, id) {
		err := connect.NewError(connect.CodePermissionDenied, fmt.Errorf("%q is not available to you", id))
		if allows(a.ent, other, id) {
			err = connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("%q is not a %s model; call %s (not %s) for it", id, provider, otherMethod, method))
		}
		return nil, s.refuse(ctx, a, err)
	}
	m, ok := s.catalog.Lookup(id)
	if !ok || m.Provider != provider {
		s.log.LogAttrs(ctx, slog.LevelError, "the policy grants an id the catalog lacks", slog.String("model", id))
		return nil, s.refuse(ctx, a, connect.NewError(connect.CodeNotFound, fmt.Errorf("%q is not in the model catalog", id)))
	}
	a.model = m
	a.req.Limits = a.ent.QuotasFor(id)
	return a, nil
}

func allows(e policy.Entitlements, p catalog.Provider, id string) bool {
	if p == catalog.ProviderSageMaker {
		return e.AllowsEndpoint(id)
	}
	return e.AllowsModel(id)
}

// refuse records a refusal in the audit trail and returns err with the request id attached.
func (s *Service) refuse(ctx context.Context, a *admission, err error) error {
	s.meter.Refuse(ctx, a.req, err)
	return withRequestID(err, a.req.RequestID)
}

// withRequestID attaches the request id to a *connect.Error's metadata.
func withRequestID(err error, id string) error {
	var ce *connect.Error
	if errors.As(err, &ce) {
		ce.Meta().Set(RequestIDHeader, id)
	}
	return err
}

// clientOf returns the caller's address and user agent for the audit trail: from the
// Portico-Client-* headers when the token's client is trusted, else the peer's address and
// the User-Agent header.
func (s *Service) clientOf(p *principal.Principal, peer connect.Peer, h http.Header) (ip, ua string) {
	if slices.Contains(s.trusted, p.ClientID) {
		if a, err := netip.ParseAddr(h.Get(ClientIPHeader)); err == nil {
			ip = a.String()
		}
		ua = h.Get(ClientUserAgentHeader)
	} else {
		ua = h.Get("User-Agent")
	}
	if ip == "" {
		host, _, err := net.SplitHostPort(peer.Addr)
		if err != nil {
			host = peer.Addr
		}
		ip = host
	}
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return ip, ua
}

package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	identityv1 "github.com/portico-dev/portico/gen/go/portico/identity/v1"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/client"
)

// Defaults of Options.
const (
	DefaultPrompt       = "Reply with the single word OK."
	DefaultMaxTokens    = 1
	DefaultCheckTimeout = time.Minute
)

// Options tune a run.
type Options struct {
	// Prompt is what each model and endpoint is asked (DefaultPrompt).
	Prompt string
	// MaxTokens bounds each answer (DefaultMaxTokens: one token, the least the API takes).
	MaxTokens int32
	// SkipEndpoints leaves SageMaker endpoints out (they bill by the instance hour, not the
	// call, but a custom container may not take the test payload).
	SkipEndpoints bool
	// CheckTimeout bounds each check (DefaultCheckTimeout).
	CheckTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Prompt == "" {
		o.Prompt = DefaultPrompt
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	if o.CheckTimeout <= 0 {
		o.CheckTimeout = DefaultCheckTimeout
	}
	return o
}

// Run checks the deployment cfg points at (see the package doc) and reports every check. It
// stops early only when a later check cannot run: without a token endpoint, a token or the
// list of models.
func Run(ctx context.Context, cfg client.Config, o Options) *Report {
	o = o.withDefaults()
	r := &Report{URL: or(cfg.BaseURL, client.DefaultBaseURL)}
	protocol, err := client.ParseProtocol(string(cfg.Protocol))
	if protocol == "" {
		protocol = client.DefaultProtocol(r.URL)
	}
	r.Protocol = string(protocol)
	if err != nil {
		r.add(Check{Name: "config", Status: StatusFailed, Class: ClassInvalid, Detail: err.Error()})
		return r
	}
	cfg.Protocol = protocol

	issuer := or(cfg.Issuer, client.DefaultIssuer)
	start := time.Now()
	c, err := client.New(ctx, cfg)
	took := time.Since(start)
	switch {
	case err != nil:
		r.fail("discovery", issuer, took, err)
		return r
	case cfg.TokenURL != "":
		r.add(Check{Name: "discovery", Target: issuer, Status: StatusSkipped, Detail: "token URL given: " + cfg.TokenURL})
	default:
		r.add(Check{Name: "discovery", Target: issuer, Status: StatusOK, Took: took, Detail: "token endpoint " + c.TokenURL()})
	}

	clientID := cfg.ClientID
	if clientID == "" {
		clientID = client.DefaultClientID
	}
	start = time.Now()
	tok, err := c.Token()
	if err != nil {
		r.fail("token", clientID, time.Since(start), err)
		return r
	}
	detail := "access token issued"
	if !tok.Expiry.IsZero() {
		detail += fmt.Sprintf(", expires in %s", time.Until(tok.Expiry).Round(time.Minute))
	}
	r.add(Check{Name: "token", Target: clientID, Status: StatusOK, Took: time.Since(start), Detail: detail})

	r.step(ctx, o, "GetMe", "", func(ctx context.Context) (string, error) {
		me, err := c.Identity.GetMe(ctx, &identityv1.GetMeRequest{})
		if err != nil {
			return "", err
		}
		p := me.GetPrincipal()
		kind := strings.ToLower(strings.TrimPrefix(p.GetKind().String(), "PRINCIPAL_KIND_"))
		return fmt.Sprintf("%s (%s), scopes %v, groups %v", p.GetUsername(), kind, p.GetScopes(), p.GetGroups()), nil
	})

	var models []*inferencev1.Model
	if !r.step(ctx, o, "ListModels", "", func(ctx context.Context) (string, error) {
		resp, err := c.Inference.ListModels(ctx, &inferencev1.ListModelsRequest{})
		if err != nil {
			return "", err
		}
		models = resp.GetModels()
		var n, e int
		for _, m := range models {
			if m.GetProvider() == inferencev1.Provider_PROVIDER_SAGEMAKER {
				e++
			} else {
				n++
			}
		}
		if len(models) == 0 {
			return "", &failure{ClassAccessDenied, "the client is entitled to no model or endpoint: nothing to check"}
		}
		return fmt.Sprintf("%d models, %d endpoints", n, e), nil
	}) {
		return r
	}

	for _, m := range models {
		switch m.GetProvider() {
		case inferencev1.Provider_PROVIDER_SAGEMAKER:
			r.endpoint(ctx, c, o, m)
		default:
			r.model(ctx, c, o, m)
		}
	}

	r.step(ctx, o, "GetUsage", "", func(ctx context.Context) (string, error) {
		u, err := c.Inference.GetUsage(ctx, &inferencev1.GetUsageRequest{})
		if err != nil {
			return "", err
		}
		t := u.GetToday()
		return fmt.Sprintf("today: %d requests, %d errors, %d tokens", t.GetRequests(), t.GetErrors(), t.GetTotalTokens()), nil
	})
	return r
}

// model runs Converse and ConverseStream on a Bedrock model.
func (r *Report) model(ctx context.Context, c *client.Client, o Options, m *inferencev1.Model) {
	id := m.GetId()
	messages := []*inferencev1.Message{{
		Role:    inferencev1.Role_ROLE_USER,
		Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: o.Prompt}}},
	}}
	cfg := &inferencev1.InferenceConfig{MaxTokens: proto.Int32(o.MaxTokens)}
	r.step(ctx, o, "Converse", id, func(ctx context.Context) (string, error) {
		resp, err := c.Inference.Converse(ctx, &inferencev1.ConverseRequest{ModelId: id, Messages: messages, InferenceConfig: cfg})
		if err != nil {
			return "", err
		}
		mt := resp.GetMetrics()
		return fmt.Sprintf("%s, %d in / %d out tokens", stop(resp.GetStopReason()), mt.GetInputTokens(), mt.GetOutputTokens()), nil
	})
	if !m.GetCapabilities().GetStreaming() {
		r.add(Check{Name: "ConverseStream", Target: id, Status: StatusSkipped, Detail: "the model does not stream"})
		return
	}
	r.step(ctx, o, "ConverseStream", id, func(ctx context.Context) (string, error) {
		stream, err := c.Inference.ConverseStream(ctx, &inferencev1.ConverseStreamRequest{ModelId: id, Messages: messages, InferenceConfig: cfg})
		if err != nil {
			return "", err
		}
		defer func() { _ = stream.Close() }()
		var (
			reason  inferencev1.StopReason
			metrics *inferencev1.StreamMetadata
		)
		for stream.Receive() {
			switch ev := stream.Msg().GetEvent().(type) {
			case *inferencev1.ConverseStreamResponse_Stop:
				reason = ev.Stop.GetStopReason()
			case *inferencev1.ConverseStreamResponse_Metadata:
				metrics = ev.Metadata
			}
		}
		if err := stream.Err(); err != nil {
			return "", err
		}
		if reason == inferencev1.StopReason_STOP_REASON_UNSPECIFIED || metrics == nil {
			return "", &failure{ClassUnavailable, "the stream ended without its stop and metadata events"}
		}
		mt := metrics.GetMetrics()
		return fmt.Sprintf("%s, %d in / %d out tokens", stop(reason), mt.GetInputTokens(), mt.GetOutputTokens()), nil
	})
}

// endpoint runs InvokeEndpoint on a SageMaker endpoint that takes JSON or text.
func (r *Report) endpoint(ctx context.Context, c *client.Client, o Options, m *inferencev1.Model) {
	name := m.GetId()
	if o.SkipEndpoints {
		r.add(Check{Name: "InvokeEndpoint", Target: name, Status: StatusSkipped, Detail: "endpoints skipped"})
		return
	}
	types := m.GetContentTypes()
	var req *inferencev1.InvokeEndpointRequest
	switch {
	case len(types) == 0 || slices.Contains(types, "application/json"):
		body, err := json.Marshal(map[string]any{"inputs": o.Prompt, "parameters": map[string]any{"max_new_tokens": o.MaxTokens}})
		if err != nil {
			r.fail("InvokeEndpoint", name, 0, err)
			return
		}
		req = &inferencev1.InvokeEndpointRequest{EndpointName: name, ContentType: "application/json", Body: body}
	case slices.Contains(types, "text/plain"):
		req = &inferencev1.InvokeEndpointRequest{EndpointName: name, ContentType: "text/plain", Body: []byte(o.Prompt)}
	default:
		r.add(Check{Name: "InvokeEndpoint", Target: name, Status: StatusSkipped, Detail: "no test payload for " + strings.Join(types, ", ")})
		return
	}
	r.step(ctx, o, "InvokeEndpoint", name, func(ctx context.Context) (string, error) {
		resp, err := c.Inference.InvokeEndpoint(ctx, req)
		if err != nil {
			return "", err
		}
		detail := fmt.Sprintf("%d bytes of %s", len(resp.GetBody()), resp.GetContentType())
		if v := resp.GetInvokedProductionVariant(); v != "" {
			detail += " from variant " + v
		}
		return detail, nil
	})
}

// step runs one check with its own timeout and records it; it reports whether it passed.
func (r *Report) step(ctx context.Context, o Options, name, target string, f func(context.Context) (string, error)) bool {
	ctx, cancel := context.WithTimeout(ctx, o.CheckTimeout)
	defer cancel()
	start := time.Now()
	detail, err := f(ctx)
	if err != nil {
		r.fail(name, target, time.Since(start), err)
		return false
	}
	r.add(Check{Name: name, Target: target, Status: StatusOK, Took: time.Since(start), Detail: detail})
	return true
}

func (r *Report) fail(name, target string, took time.Duration, err error) {
	r.add(Check{Name: name, Target: target, Status: StatusFailed, Class: Classify(err), Took: took, Detail: err.Error()})
}

func (r *Report) add(c Check) { r.Checks = append(r.Checks, c) }

func stop(r inferencev1.StopReason) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "STOP_REASON_"))
}

package openaicompat

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/authn"
	"github.com/portico-dev/portico/services/inference"
	"github.com/portico-dev/portico/services/platform/telemetry"
	"github.com/portico-dev/portico/services/principal"
	"github.com/portico-dev/portico/services/token"
)

// Paths the handler serves; mount it at Prefix.
const (
	// Prefix is the endpoint's path prefix.
	Prefix = "/v1/"
	// ChatCompletionsPath is recorded as the procedure of its calls in the audit trail.
	ChatCompletionsPath = "/v1/chat/completions"
	modelsPath          = "/v1/models"
)

// Defaults of a Handler.
const (
	// MaxBodyBytes is the largest request body read: inference.MaxRequestBytes of images,
	// base64-encoded (4/3), with room for the JSON around them.
	MaxBodyBytes = 12 << 20
	// DefaultTimeout bounds one completion, as the Connect API's longest deadline.
	DefaultTimeout = 15 * time.Minute
)

// Inference is what the endpoint calls; *inference.Service is one.
type Inference interface {
	ListModels(ctx context.Context, req *inferencev1.ListModelsRequest) (*inferencev1.ListModelsResponse, error)
	Converse(ctx context.Context, req *inferencev1.ConverseRequest) (*inferencev1.ConverseResponse, error)
	ConverseStreamTo(ctx context.Context, req *inferencev1.ConverseStreamRequest, sink inference.StreamSink[inferencev1.ConverseStreamResponse]) error
}

// Config configures a Handler.
type Config struct {
	// Inference runs the calls; required.
	Inference Inference
	// Verifier authenticates callers (apikey.Verifier: keys and tokens); required.
	Verifier authn.TokenVerifier
	// Logger receives one record per refused request (never credentials or prompts); nil
	// discards them.
	Logger *slog.Logger
	// Timeout bounds one request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock of the `created` fields; nil means time.Now.
	Now func() time.Time
}

// Handler is the OpenAI-compatible endpoint. It is safe for concurrent use.
type Handler struct {
	cfg Config
}

// New returns the endpoint for cfg. Mount it at Prefix outside the Connect authentication
// middleware (it authenticates on its own, answering in OpenAI's shape).
func New(cfg Config) *Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg}
}

// ServeHTTP routes /v1/models, /v1/models/{model} and /v1/chat/completions.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == ChatCompletionsPath:
		if !method(w, r, http.MethodPost) {
			return
		}
	case path == modelsPath || strings.HasPrefix(path, modelsPath+"/"):
		if !method(w, r, http.MethodGet) {
			return
		}
	default:
		writeError(w, &apiError{status: http.StatusNotFound, Type: "invalid_request_error",
			Message: "Portico's OpenAI-compatible endpoint serves /v1/models and /v1/chat/completions only"})
		return
	}
	p, aerr := h.authenticate(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	ctx, cancel := context.WithTimeout(principal.NewContext(r.Context(), p), h.cfg.Timeout)
	defer cancel()
	if rid := telemetry.RequestIDFromContext(ctx); rid != "" {
		w.Header().Set(inference.RequestIDHeader, rid)
	}
	switch {
	case path == ChatCompletionsPath:
		h.chat(ctx, w, r)
	case path == modelsPath:
		h.models(ctx, w, "")
	default:
		h.models(ctx, w, strings.TrimPrefix(path, modelsPath+"/"))
	}
}

func method(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Method == want {
		return true
	}
	w.Header().Set("Allow", want)
	writeError(w, &apiError{status: http.StatusMethodNotAllowed, Type: "invalid_request_error", Message: r.Method + " is not allowed here; use " + want})
	return false
}

// authenticate returns the caller: a key's owner, a person, or a machine client holding the
// inference scope.
func (h *Handler) authenticate(r *http.Request) (*principal.Principal, *apiError) {
	raw, err := authn.BearerToken(r)
	var p *principal.Principal
	if err == nil {
		p, err = h.cfg.Verifier.Verify(r.Context(), raw)
	}
	if err != nil {
		h.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "unauthenticated", slog.String("path", r.URL.Path),
			slog.String("remote", r.RemoteAddr), slog.String("reason", err.Error()))
		switch {
		case errors.Is(err, token.ErrKeySet) || errors.Is(err, authn.ErrUnavailable):
			return nil, &apiError{status: http.StatusServiceUnavailable, Type: "server_error", Message: "credentials cannot be checked right now; retry", retryAfter: throttleRetryAfter}
		case errors.Is(err, token.ErrMissing):
			return nil, unauthenticated("You didn't provide an API key. Send it as Authorization: Bearer <key>.")
		}
		return nil, unauthenticated("Incorrect API key provided, or the key is revoked, expired or idle.")
	}
	if p.Kind == principal.KindMachine && !p.HasScope(authn.ScopeInference) {
		h.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "permission denied", slog.String("path", r.URL.Path),
			slog.String("client_id", p.ClientID), slog.String("reason", "machine client lacks the inference scope"))
		return nil, &apiError{status: http.StatusForbidden, Type: "permission_error", Code: ptr("missing_scope"),
			Message: "this client lacks the scope " + authn.ScopeInference}
	}
	return p, nil
}

type model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// models answers the caller's chat models (Bedrock), or the one named id.
func (h *Handler) models(ctx context.Context, w http.ResponseWriter, id string) {
	res, err := h.cfg.Inference.ListModels(ctx, &inferencev1.ListModelsRequest{Provider: inferencev1.Provider_PROVIDER_BEDROCK})
	if err != nil {
		writeError(w, fromConnect(err, id))
		return
	}
	list := []model{}
	for _, m := range res.GetModels() {
		owner := m.GetFamily()
		if owner == "" {
			owner = "bedrock"
		}
		mm := model{ID: m.GetId(), Object: "model", OwnedBy: owner}
		if id == m.GetId() {
			writeJSON(w, mm)
			return
		}
		list = append(list, mm)
	}
	if id != "" {
		writeError(w, modelNotFound(id))
		return
	}
	writeJSON(w, map[string]any{"object": "list", "data": list})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// readRequest reads and checks the body of a chat completion.
func (h *Handler) readRequest(w http.ResponseWriter, r *http.Request) (*chatRequest, *apiError) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, &apiError{status: http.StatusUnsupportedMediaType, Type: "invalid_request_error", Message: "send the body as application/json"}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error", Message: "the request body is larger than 12 MiB"}
		}
		return nil, &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Message: "the request body could not be read"}
	}
	var req chatRequest
	if aerr := decodeStrict(body, &req, ""); aerr != nil {
		return nil, aerr
	}
	if req.StreamOptions != nil && (req.Stream == nil || !*req.Stream) {
		return nil, badRequest("stream_options", "stream_options is only allowed when stream is true")
	}
	return &req, nil
}

type usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

type completion struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Choices []choiceMessage `json:"choices"`
	Usage   usage           `json:"usage"`
}

type choiceMessage struct {
	Index        int             `json:"index"`
	Message      assistantOutput `json:"message"`
	FinishReason string          `json:"finish_reason"`
	Logprobs     *struct{}       `json:"logprobs"`
}

type assistantOutput struct {
	Role    string  `json:"role"`
	Content string  `json:"content"`
	Refusal *string `json:"refusal"`
}

func (h *Handler) chat(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	req, aerr := h.readRequest(w, r)
	var msg *inferencev1.ConverseRequest
	if aerr == nil {
		msg, aerr = req.converse()
	}
	if aerr != nil {
		h.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "bad chat completion request", slog.String("reason", aerr.Message))
		writeError(w, aerr)
		return
	}
	ctx = inference.WithCall(ctx, inference.Call{Procedure: ChatCompletionsPath, PeerAddr: r.RemoteAddr, Header: r.Header})
	if req.Stream != nil && *req.Stream {
		includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage != nil && *req.StreamOptions.IncludeUsage
		h.stream(ctx, w, msg, includeUsage)
		return
	}
	res, err := h.cfg.Inference.Converse(ctx, msg)
	if err != nil {
		writeError(w, fromConnect(err, msg.GetModelId()))
		return
	}
	var text strings.Builder
	for _, b := range res.GetOutput().GetContent() {
		text.WriteString(b.GetText())
	}
	m := res.GetMetrics()
	writeJSON(w, completion{
		ID: "chatcmpl-" + res.GetRequestId(), Object: "chat.completion", Created: h.cfg.Now().Unix(), Model: msg.GetModelId(),
		Choices: []choiceMessage{{Message: assistantOutput{Role: "assistant", Content: text.String()}, FinishReason: finishReason(res.GetStopReason())}},
		Usage:   usage{PromptTokens: m.GetInputTokens(), CompletionTokens: m.GetOutputTokens(), TotalTokens: m.GetInputTokens() + m.GetOutputTokens()},
	})
}

// finishReason maps a stop reason onto OpenAI's finish_reason.
func finishReason(s inferencev1.StopReason) string {
	switch s {
	case inferencev1.StopReason_STOP_REASON_MAX_TOKENS:
		return "length"
	case inferencev1.StopReason_STOP_REASON_GUARDRAIL_INTERVENED, inferencev1.StopReason_STOP_REASON_CONTENT_FILTERED:
		return "content_filter"
	case inferencev1.StopReason_STOP_REASON_TOOL_USE:
		return "tool_calls"
	default:
		return "stop"
	}
}

// isConnectCanceled reports whether err is the client going away.
func isConnectCanceled(err error) bool { return connect.CodeOf(err) == connect.CodeCanceled }

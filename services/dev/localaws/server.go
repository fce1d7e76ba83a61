package localaws

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// maxBodyBytes bounds request bodies: SageMaker's 6 MB payload limit, with room for the
// base64 of Bedrock images.
const maxBodyBytes = 32 << 20

// Server is the local AWS endpoint, an http.Handler.
type Server struct {
	cfg       Config
	mux       *http.ServeMux
	faults    *Faults
	gen       generator
	models    map[string]Model
	endpoints map[string]Endpoint
	log       *slog.Logger
	stats     Stats
	events    eventLog
}

// Stats are counters of what the server did, safe to read concurrently.
type Stats struct {
	// Requests counts model and endpoint requests, whatever their outcome.
	Requests atomic.Int64
	// TokensGenerated counts tokens produced by the generator.
	TokensGenerated atomic.Int64
	// StreamsClientGone counts streams whose client went away before the end.
	StreamsClientGone atomic.Int64
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	if cfg.AccessKeyID == "" {
		cfg.AccessKeyID = DefaultAccessKeyID
	}
	if cfg.SecretAccessKey == "" {
		cfg.SecretAccessKey = DefaultSecretAccessKey
	}
	if cfg.Models == nil {
		cfg.Models = DefaultModels
	}
	if cfg.Endpoints == nil {
		cfg.Endpoints = DefaultEndpoints
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{
		cfg:       cfg,
		mux:       http.NewServeMux(),
		faults:    &Faults{},
		models:    make(map[string]Model),
		endpoints: make(map[string]Endpoint),
		log:       cfg.Logger,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, m := range cfg.Models {
		s.models[m.ID] = m
	}
	for _, e := range cfg.Endpoints {
		s.endpoints[e.Name] = e
	}
	s.gen = builtinGenerator{tokensPerSecond: cfg.TokensPerSecond}
	if cfg.OpenAIURL != "" {
		s.gen = &openAIGenerator{url: cfg.OpenAIURL, model: cfg.OpenAIModel, client: &http.Client{}}
	}
	s.mux.HandleFunc("POST /model/{modelId}/converse", s.handleConverse)
	s.mux.HandleFunc("POST /model/{modelId}/converse-stream", s.handleConverseStream)
	s.mux.HandleFunc("POST /endpoints/{name}/invocations", s.handleInvoke)
	s.mux.HandleFunc("POST /endpoints/{name}/invocations-response-stream", s.handleInvokeStream)
	s.mux.HandleFunc("POST /{$}", s.handleTarget)
	s.mux.HandleFunc("/_portico/faults", s.handleFaults)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	})
	return s
}

// ServeHTTP implements http.Handler. Each request is logged with its method, path, status
// and duration, never its body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	}()
	s.mux.ServeHTTP(rec, r)
}

// statusRecorder remembers the status of a response; Unwrap lets http.ResponseController
// reach the underlying writer's Flush.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Faults returns the server's fault registry.
func (s *Server) Faults() *Faults { return s.faults }

// Stats returns the server's counters.
func (s *Server) Stats() *Stats { return &s.stats }

func (s *Server) now() time.Time { return s.cfg.Now() }

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// readSigned reads the body of r and verifies its signature for service.
func (s *Server) readSigned(w http.ResponseWriter, r *http.Request, service string) ([]byte, *awsError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return nil, newAWSError(http.StatusRequestEntityTooLarge, "ValidationException", "The request body is too large.")
	}
	if aerr := s.verifySigV4(r, service, body); aerr != nil {
		return nil, aerr
	}
	return body, nil
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// abortConnection closes the client connection without a proper end of the response.
func abortConnection() { panic(http.ErrAbortHandler) }

// endStream reports the end of a stream to the counters and the hook.
func (s *Server) endStream(e StreamEnd) {
	s.stats.TokensGenerated.Add(int64(e.Tokens))
	if e.ClientGone {
		s.stats.StreamsClientGone.Add(1)
	}
	if s.cfg.OnStreamEnd != nil {
		s.cfg.OnStreamEnd(e)
	}
}

package localaws

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"
)

// maxPayloadBytes is SageMaker's limit for a real-time inference payload.
const maxPayloadBytes = 6 << 20

// sagemakerInput is the JSON request of the demo endpoint.
type sagemakerInput struct {
	Inputs     *string `json:"inputs"`
	Parameters struct {
		MaxNewTokens *int     `json:"max_new_tokens"`
		Temperature  *float64 `json:"temperature"`
		TopP         *float64 `json:"top_p"`
		Stop         []string `json:"stop"`
	} `json:"parameters"`
}

func sagemakerValidation(msg string) *awsError {
	return newAWSError(http.StatusBadRequest, "ValidationError", msg)
}

// modelError is SageMaker's ModelError: the container answered with an error status.
func modelError(status int, msg string) *awsError {
	e := newAWSError(http.StatusFailedDependency, "ModelError", "Received client error ("+http.StatusText(status)+") from primary with message \""+msg+"\".")
	e.extra = map[string]any{
		"OriginalStatusCode": status,
		"OriginalMessage":    msg,
		"LogStreamArn":       "arn:aws:logs:us-east-1:000000000000:log-group:/aws/sagemaker/Endpoints/localaws",
	}
	return e
}

func sagemakerFaultError(f Fault) *awsError {
	switch f.Fault {
	case FaultThrottle:
		return newAWSError(http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
	case FaultValidation:
		return sagemakerValidation("Injected validation fault.")
	case FaultNotReady:
		return newAWSError(http.StatusTooManyRequests, "ModelNotReadyException", "Model is not ready to serve inference requests. Try again later.")
	case FaultInternal:
		return newAWSError(http.StatusInternalServerError, "InternalFailure", "An internal failure occurred.")
	case FaultModelError:
		return modelError(http.StatusInternalServerError, "injected model error")
	case FaultUnavailable:
		return newAWSError(http.StatusServiceUnavailable, "ServiceUnavailable", "The service is unavailable. Try again later.")
	case FaultTimeout, FaultQuota, FaultAccessDenied, FaultSubscription, FaultFirstUse, FaultOnDemand:
		return newAWSError(http.StatusBadRequest, "ValidationError", "Injected fault "+string(f.Fault)+" is not a SageMaker error; answering ValidationError.")
	}
	return nil
}

// prepareInvoke does the common part of both SageMaker invocations. ok is false when an
// answer was already written. jsonOut tells whether the answer is JSON (else plain text).
func (s *Server) prepareInvoke(w http.ResponseWriter, r *http.Request, requestID, acceptHeader string) (req genRequest, ep Endpoint, f Fault, jsonOut bool, ok bool) {
	s.stats.Requests.Add(1)
	body, aerr := s.readSigned(w, r, "sagemaker")
	if aerr != nil {
		aerr.write(w, requestID)
		return
	}
	name := r.PathValue("name")
	ep, found := s.endpoints[name]
	if !found {
		sagemakerValidation("Endpoint "+name+" of account 000000000000 not found.").write(w, requestID)
		return
	}
	if len(body) > maxPayloadBytes {
		sagemakerValidation("Request payload exceeds the 6 MB limit of real-time inference.").write(w, requestID)
		return
	}
	f, hasFault := s.faultFor(name, string(body))
	if hasFault {
		if fe := sagemakerFaultError(f); fe != nil {
			fe.write(w, requestID)
			return
		}
	}
	req = genRequest{model: name, maxTokens: defaultMaxTokens}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var in sagemakerInput
		if err := json.Unmarshal(body, &in); err != nil || in.Inputs == nil {
			modelError(http.StatusBadRequest, `expected a JSON object {"inputs": "...", "parameters": {...}}`).write(w, requestID)
			return
		}
		if n := in.Parameters.MaxNewTokens; n != nil {
			if *n < 1 {
				modelError(http.StatusBadRequest, "max_new_tokens must be at least 1").write(w, requestID)
				return
			}
			req.maxTokens = *n
		}
		req.turns = []genTurn{{role: "user", text: *in.Inputs}}
		req.temperature, req.topP, req.stop = in.Parameters.Temperature, in.Parameters.TopP, in.Parameters.Stop
	case "text/plain":
		req.turns = []genTurn{{role: "user", text: string(body)}}
	default:
		modelError(http.StatusUnsupportedMediaType, "unsupported content type "+ct+"; use application/json or text/plain").write(w, requestID)
		return
	}
	if strings.TrimSpace(req.turns[0].text) == "" {
		modelError(http.StatusBadRequest, "inputs must not be empty").write(w, requestID)
		return
	}
	jsonOut = !strings.Contains(acceptHeader, "text/plain")
	if ca := r.Header.Get("X-Amzn-Sagemaker-Custom-Attributes"); ca != "" {
		w.Header().Set("X-Amzn-Sagemaker-Custom-Attributes", ca)
	}
	w.Header().Set("X-Amzn-Invoked-Production-Variant", ep.Variant)
	w.Header().Set("X-Amzn-Requestid", requestID)
	return req, ep, f, jsonOut, true
}

// finishReason maps a stop reason to the Text Generation Inference vocabulary.
func finishReason(stop string) string {
	switch stop {
	case stopMaxTokens:
		return "length"
	case stopSequence:
		return "stop_sequence"
	}
	return "eos_token"
}

// generatorFor returns the generator of an endpoint: the echo for an Echo endpoint.
func (s *Server) generatorFor(ep Endpoint) generator {
	if ep.Echo {
		return echoGenerator{}
	}
	return s.gen
}

// details returns the TGI "details" of an answer, or nil for an Echo endpoint, which counts
// nothing.
func details(ep Endpoint, res genResult) map[string]any {
	if ep.Echo {
		return nil
	}
	return map[string]any{"finish_reason": finishReason(res.stopReason), "generated_tokens": res.outputTokens}
}

func (s *Server) handleInvoke(w http.ResponseWriter, r *http.Request) {
	requestID := newRequestID()
	req, ep, f, jsonOut, ok := s.prepareInvoke(w, r, requestID, r.Header.Get("Accept"))
	if !ok {
		return
	}
	if !beforeAnswer(r.Context(), f) {
		return
	}
	var text strings.Builder
	res, err := s.generatorFor(ep).generate(r.Context(), req, func(p string) error {
		text.WriteString(p)
		return nil
	})
	s.stats.TokensGenerated.Add(int64(res.outputTokens))
	if err != nil {
		if r.Context().Err() == nil {
			modelError(http.StatusInternalServerError, "generation failed").write(w, requestID)
		}
		return
	}
	if !jsonOut {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(text.String()))
		return
	}
	answer := map[string]any{"generated_text": text.String()}
	if d := details(ep, res); d != nil {
		answer["details"] = d
	}
	b, _ := json.Marshal(answer)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (s *Server) handleInvokeStream(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	requestID := newRequestID()
	req, ep, f, jsonOut, ok := s.prepareInvoke(w, r, requestID, r.Header.Get("X-Amzn-Sagemaker-Accept"))
	if !ok {
		return
	}
	cutAt, failAt := -1, -1
	switch f.Fault {
	case FaultCut:
		cutAt = f.AfterEvents
	case FaultStreamError:
		failAt = f.AfterEvents
	}
	if jsonOut {
		w.Header().Set("X-Amzn-Sagemaker-Content-Type", "application/jsonlines")
	} else {
		w.Header().Set("X-Amzn-Sagemaker-Content-Type", "text/plain")
	}
	ew := newEventWriter(w, cutAt)
	end := StreamEnd{Target: req.model}
	defer func() {
		end.Events = ew.sent
		s.endStream(end)
	}()
	send := func(part []byte) error {
		if failAt >= 0 && ew.sent >= failAt {
			_ = ew.exception("ModelStreamError", &awsError{code: "ModelStreamError", msg: "The model stream failed.", extra: map[string]any{"ErrorCode": "ModelStreamError"}})
			return errStreamCut
		}
		return ew.event("PayloadPart", "application/octet-stream", part)
	}
	fail := func(err error) {
		if !errors.Is(err, errStreamCut) {
			end.ClientGone = true
			return
		}
		if f.Fault == FaultCut {
			abortConnection()
		}
	}
	first := true
	res, err := s.generatorFor(ep).generate(ctx, req, func(p string) error {
		if first && f.Fault == FaultSlow {
			if err := sleepCtx(ctx, time.Duration(f.DelayMs)*time.Millisecond); err != nil {
				return err
			}
		}
		first = false
		end.Tokens++
		if !jsonOut {
			return send([]byte(p))
		}
		b, _ := json.Marshal(map[string]any{"token": map[string]any{"text": p}})
		return send(append(b, '\n'))
	})
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, errStreamCut) {
			_ = ew.exception("ModelStreamError", &awsError{code: "ModelStreamError", msg: "The model stream failed.", extra: map[string]any{"ErrorCode": "ModelStreamError"}})
			return
		}
		fail(err)
		return
	}
	if d := details(ep, res); jsonOut && d != nil {
		b, _ := json.Marshal(map[string]any{"details": d})
		if err := send(append(b, '\n')); err != nil {
			fail(err)
			return
		}
	}
	if !ew.started {
		ew.start()
	}
}

package localaws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// converseInput is the body of Bedrock's Converse and ConverseStream requests (the parts the
// server understands).
type converseInput struct {
	Messages []struct {
		Role    string `json:"role"`
		Content []struct {
			Text  *string `json:"text"`
			Image *struct {
				Format string `json:"format"`
				Source struct {
					Bytes []byte `json:"bytes"`
				} `json:"source"`
			} `json:"image"`
			Document *struct {
				Format    string `json:"format"`
				Name      string `json:"name"`
				Citations *struct {
					Enabled bool `json:"enabled"`
				} `json:"citations"`
				Source struct {
					Bytes []byte `json:"bytes"`
				} `json:"source"`
			} `json:"document"`
		} `json:"content"`
	} `json:"messages"`
	System []struct {
		Text *string `json:"text"`
	} `json:"system"`
	InferenceConfig *struct {
		MaxTokens     *int     `json:"maxTokens"`
		Temperature   *float64 `json:"temperature"`
		TopP          *float64 `json:"topP"`
		StopSequences []string `json:"stopSequences"`
	} `json:"inferenceConfig"`
	GuardrailConfig *struct {
		GuardrailIdentifier string `json:"guardrailIdentifier"`
		GuardrailVersion    string `json:"guardrailVersion"`
		Trace               string `json:"trace"`
	} `json:"guardrailConfig"`
}

// guardrailMarker in a prompt makes any configured guardrail intervene.
const guardrailMarker = "[[guardrail]]"

// guardrailMessage is the answer of an intervening guardrail.
const guardrailMessage = "Sorry, this request was blocked by a guardrail."

func validationErr(format string, args ...any) *awsError {
	return newAWSError(http.StatusBadRequest, "ValidationException", fmt.Sprintf(format, args...))
}

// parseConverse decodes and validates a Converse body for model m, the way Bedrock does.
func parseConverse(m Model, body []byte) (genRequest, *converseInput, string, *awsError) {
	var in converseInput
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		return genRequest{}, nil, "", validationErr("Malformed input request, please reformat your input and try again.")
	}
	req := genRequest{model: m.ID, maxTokens: min(defaultMaxTokens, m.MaxOutputTokens)}
	var all strings.Builder
	for i, sb := range in.System {
		if sb.Text == nil {
			continue
		}
		if !m.SystemPrompt {
			return req, &in, "", validationErr("This model doesn't support system messages. Try again without a system message.")
		}
		if i > 0 {
			req.system += "\n"
		}
		req.system += *sb.Text
		all.WriteString(*sb.Text)
		all.WriteByte('\n')
	}
	if len(in.Messages) == 0 || in.Messages[0].Role != "user" {
		return req, &in, all.String(), validationErr("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
	}
	for i, msg := range in.Messages {
		if msg.Role != "user" && msg.Role != "assistant" {
			return req, &in, all.String(), validationErr("The role at messages.%d must be user or assistant.", i)
		}
		if i > 0 && msg.Role == in.Messages[i-1].Role {
			return req, &in, all.String(), validationErr("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.")
		}
		if len(msg.Content) == 0 {
			return req, &in, all.String(), validationErr("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i)
		}
		turn := genTurn{role: msg.Role}
		for j, c := range msg.Content {
			switch {
			case c.Text != nil:
				if strings.TrimSpace(*c.Text) == "" {
					return req, &in, all.String(), validationErr("The text field in the ContentBlock object at messages.%d.content.%d is blank. Add text to the text field, and try again.", i, j)
				}
				if turn.text != "" {
					turn.text += "\n"
				}
				turn.text += *c.Text
				all.WriteString(*c.Text)
				all.WriteByte('\n')
			case c.Image != nil:
				if !m.Images {
					return req, &in, all.String(), validationErr("This model doesn't support the image content block that you provided. Try again with a supported content block.")
				}
				if !imageMatches(c.Image.Format, c.Image.Source.Bytes) {
					return req, &in, all.String(), validationErr("The image at messages.%d.content.%d could not be processed: its bytes are not a valid %s image.", i, j, c.Image.Format)
				}
				turn.images = append(turn.images, genImage{format: c.Image.Format, data: c.Image.Source.Bytes})
			case c.Document != nil:
				if aerr := checkDocument(m, msg.Role, c.Document.Format, c.Document.Name, c.Document.Source.Bytes, req.docs, i, j); aerr != nil {
					return req, &in, all.String(), aerr
				}
				if c.Document.Citations != nil && c.Document.Citations.Enabled && !m.Citations {
					return req, &in, all.String(), validationErr("This model doesn't support citations.")
				}
				req.docs = append(req.docs, genDoc{name: c.Document.Name, format: c.Document.Format, bytes: len(c.Document.Source.Bytes),
					cite: c.Document.Citations != nil && c.Document.Citations.Enabled, excerpt: excerptOf(c.Document.Format, c.Document.Source.Bytes)})
				turn.docs++
			default:
				return req, &in, all.String(), validationErr("The ContentBlock object at messages.%d.content.%d has no supported content.", i, j)
			}
		}
		req.turns = append(req.turns, turn)
	}
	if last := in.Messages[len(in.Messages)-1]; last.Role != "user" {
		return req, &in, all.String(), validationErr("A conversation must end with a user message. Try again with a conversation that ends with a user message.")
	}
	if ic := in.InferenceConfig; ic != nil {
		if ic.MaxTokens != nil {
			if *ic.MaxTokens < 1 {
				return req, &in, all.String(), validationErr("The value at inferenceConfig.maxTokens must be at least 1.")
			}
			if *ic.MaxTokens > m.MaxOutputTokens {
				return req, &in, all.String(), validationErr("The maximum tokens you requested exceeds the model limit of %d. Try again with a maximum tokens value that is lower than %d.", m.MaxOutputTokens, m.MaxOutputTokens)
			}
			req.maxTokens = *ic.MaxTokens
		}
		if t := ic.Temperature; t != nil && (*t < 0 || *t > 1) {
			return req, &in, all.String(), validationErr("The value at inferenceConfig.temperature must be between 0 and 1.")
		}
		if p := ic.TopP; p != nil && (*p < 0 || *p > 1) {
			return req, &in, all.String(), validationErr("The value at inferenceConfig.topP must be between 0 and 1.")
		}
		if len(ic.StopSequences) > 4 {
			return req, &in, all.String(), validationErr("The value at inferenceConfig.stopSequences must have at most 4 members.")
		}
		req.temperature, req.topP, req.stop = ic.Temperature, ic.TopP, ic.StopSequences
	}
	return req, &in, all.String(), nil
}

// imageMatches reports whether data starts like an image of the given Bedrock format.
func imageMatches(format string, data []byte) bool {
	switch format {
	case "png":
		return bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n"))
	case "jpeg":
		return bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF})
	case "gif":
		return bytes.HasPrefix(data, []byte("GIF87a")) || bytes.HasPrefix(data, []byte("GIF89a"))
	case "webp":
		return len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP"
	}
	return false
}

// bedrockFaultError is the error a fault answers on Bedrock for a model, or nil for faults
// that do not answer with an error before the stream.
func bedrockFaultError(f Fault, modelID string) *awsError {
	switch f.Fault {
	case FaultThrottle:
		return newAWSError(http.StatusTooManyRequests, "ThrottlingException", "Too many requests, please wait before trying again.")
	case FaultValidation:
		return validationErr("Injected validation fault.")
	case FaultNotReady:
		return newAWSError(http.StatusTooManyRequests, "ModelNotReadyException", "Model is not ready for inference. Wait and try your request again.")
	case FaultInternal:
		return newAWSError(http.StatusInternalServerError, "InternalServerException", "The server encountered an internal error.")
	case FaultModelError:
		e := newAWSError(http.StatusFailedDependency, "ModelErrorException", "The model failed to process the request.")
		e.extra = map[string]any{"originalStatusCode": 500, "resourceName": "localaws"}
		return e
	case FaultTimeout:
		return newAWSError(http.StatusRequestTimeout, "ModelTimeoutException", "Model has timed out in processing the request.")
	case FaultUnavailable:
		return newAWSError(http.StatusServiceUnavailable, "ServiceUnavailableException", "The service is unavailable. Try again later.")
	case FaultQuota:
		return newAWSError(http.StatusBadRequest, "ServiceQuotaExceededException", "Your request exceeds the service quota for your account.")
	case FaultAccessDenied:
		return newAWSError(http.StatusForbidden, "AccessDeniedException", "You don't have access to the model with the specified model ID.")
	case FaultSubscription:
		return newAWSError(http.StatusForbidden, "AccessDeniedException", "Model access is denied due to IAM user or service role is not authorized to perform the required AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable access to this model. Refer to the Amazon Bedrock documentation for further details. Your AWS Marketplace subscription for this model cannot be completed at this time. If you recently fixed this issue, try again after 15 minutes.")
	case FaultFirstUse:
		return newAWSError(http.StatusNotFound, "ResourceNotFoundException", "Model use case details have not been submitted for this account. Fill out the Anthropic use case details form before using the model. If you have already filled out the form, try again in 15 minutes.")
	case FaultOnDemand:
		return validationErr("Invocation of model ID %s with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model.", modelID)
	}
	return nil
}

// prepareConverse does the common part of Converse and ConverseStream: signature, model,
// body, faults. ok is false when an answer was already written.
func (s *Server) prepareConverse(w http.ResponseWriter, r *http.Request, requestID string) (genRequest, *converseInput, Fault, bool) {
	s.stats.Requests.Add(1)
	body, aerr := s.readSigned(w, r, "bedrock")
	if aerr != nil {
		aerr.write(w, requestID)
		return genRequest{}, nil, Fault{}, false
	}
	modelID := r.PathValue("modelId")
	m, ok := s.models[modelID]
	if !ok {
		newAWSError(http.StatusNotFound, "ResourceNotFoundException", "The model "+strconv.Quote(modelID)+" was not found.").write(w, requestID)
		return genRequest{}, nil, Fault{}, false
	}
	req, in, text, aerr := parseConverse(m, body)
	f, hasFault := s.faultFor(modelID, text)
	if hasFault {
		if fe := bedrockFaultError(f, modelID); fe != nil {
			fe.write(w, requestID)
			return req, in, f, false
		}
	}
	if aerr != nil {
		aerr.write(w, requestID)
		return req, in, f, false
	}
	return req, in, f, true
}

// guardrailIntervenes reports whether the request asked for a guardrail that intervenes.
func guardrailIntervenes(in *converseInput, req genRequest) bool {
	if in.GuardrailConfig == nil || in.GuardrailConfig.GuardrailIdentifier == "" {
		return false
	}
	for _, t := range req.turns {
		if strings.Contains(t.text, guardrailMarker) {
			return true
		}
	}
	return strings.Contains(req.system, guardrailMarker)
}

type usageJSON struct {
	InputTokens  int `json:"inputTokens"`
	OutputTokens int `json:"outputTokens"`
	TotalTokens  int `json:"totalTokens"`
}

func (s *Server) handleConverse(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := newRequestID()
	req, in, f, ok := s.prepareConverse(w, r, requestID)
	if !ok {
		return
	}
	if !beforeAnswer(r.Context(), f) {
		return
	}
	var text strings.Builder
	var res genResult
	if guardrailIntervenes(in, req) {
		text.WriteString(guardrailMessage)
		res = genResult{stopReason: stopGuardrail, inputTokens: req.inputTokens(), outputTokens: countTokens(guardrailMessage)}
	} else {
		var err error
		res, err = s.gen.generate(r.Context(), req, func(piece string) error {
			text.WriteString(piece)
			return nil
		})
		s.stats.TokensGenerated.Add(int64(res.outputTokens))
		if err != nil {
			if r.Context().Err() != nil {
				return
			}
			s.log.Warn("generation failed", "model", req.model, "err", err)
			newAWSError(http.StatusFailedDependency, "ModelErrorException", "The model failed to process the request.").write(w, requestID)
			return
		}
	}
	content := []map[string]any{{"text": text.String()}}
	if cs := citationsOf(req.docs); len(cs) > 0 {
		content = append(content, map[string]any{"citationsContent": map[string]any{
			"content":   []map[string]any{{"text": citedText}},
			"citations": cs,
		}})
	}
	out := map[string]any{
		"output": map[string]any{"message": map[string]any{
			"role":    "assistant",
			"content": content,
		}},
		"stopReason": res.stopReason,
		"usage":      usageJSON{res.inputTokens, res.outputTokens, res.inputTokens + res.outputTokens},
		"metrics":    map[string]any{"latencyMs": time.Since(start).Milliseconds()},
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", requestID)
	_, _ = w.Write(b)
}

func (s *Server) handleConverseStream(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	start := time.Now()
	requestID := newRequestID()
	req, in, f, ok := s.prepareConverse(w, r, requestID)
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
	w.Header().Set("X-Amzn-Requestid", requestID)
	ew := newEventWriter(w, cutAt)
	end := StreamEnd{Target: req.model}
	defer func() {
		end.Events = ew.sent
		s.endStream(end)
	}()
	// send writes one event, or the injected exception when its turn has come.
	send := func(eventType string, payload any) error {
		if failAt >= 0 && ew.sent >= failAt {
			_ = ew.exception("modelStreamErrorException", &awsError{code: "ModelStreamErrorException", msg: "The model stream failed.", extra: map[string]any{"originalStatusCode": 500, "originalMessage": "injected"}})
			return errStreamCut
		}
		b, _ := json.Marshal(payload)
		return ew.event(eventType, "application/json", b)
	}
	// fail ends the stream after a failed send: an injected cut aborts the connection, an
	// injected stream error was already sent, anything else means the client went away.
	fail := func(err error) {
		if !errors.Is(err, errStreamCut) {
			end.ClientGone = true
			return
		}
		if f.Fault == FaultCut {
			abortConnection()
		}
	}
	if err := send("messageStart", map[string]any{"role": "assistant"}); err != nil {
		fail(err)
		return
	}
	var res genResult
	first := true
	emit := func(piece string) error {
		if first && f.Fault == FaultSlow {
			if err := sleepCtx(ctx, time.Duration(f.DelayMs)*time.Millisecond); err != nil {
				return err
			}
		}
		first = false
		end.Tokens++
		return send("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"text": piece}})
	}
	if guardrailIntervenes(in, req) {
		res = genResult{stopReason: stopGuardrail, inputTokens: req.inputTokens(), outputTokens: countTokens(guardrailMessage)}
		if err := emit(guardrailMessage); err != nil {
			fail(err)
			return
		}
	} else {
		var err error
		res, err = s.gen.generate(ctx, req, emit)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, errStreamCut) {
				s.log.Warn("generation failed", "model", req.model, "err", err)
				_ = ew.exception("modelStreamErrorException", &awsError{code: "ModelStreamErrorException", msg: "The model stream failed."})
				return
			}
			fail(err)
			return
		}
	}
	for _, c := range citationsOf(req.docs) {
		if err := send("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]any{"citation": c}}); err != nil {
			fail(err)
			return
		}
	}
	for _, ev := range []struct {
		typ     string
		payload any
	}{
		{"contentBlockStop", map[string]any{"contentBlockIndex": 0}},
		{"messageStop", map[string]any{"stopReason": res.stopReason}},
		{"metadata", map[string]any{
			"usage":   usageJSON{res.inputTokens, res.outputTokens, res.inputTokens + res.outputTokens},
			"metrics": map[string]any{"latencyMs": time.Since(start).Milliseconds()},
		}},
	} {
		if err := send(ev.typ, ev.payload); err != nil {
			fail(err)
			return
		}
	}
}

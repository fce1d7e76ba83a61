// Package inference is the portico.inference.v1.InferenceService handler: it lists the
// models a caller may use, runs Bedrock conversations (Converse, ConverseStream) and
// SageMaker endpoints (InvokeEndpoint, InvokeEndpointStream) within the caller's quotas, and
// reports the caller's usage (GetUsage).
//
// Wire it with
//
//	svc := inference.NewService(inference.Config{Catalog: cat, Policy: live.Policy, Store: st,
//		Bedrock: bedrockClient, SageMaker: sagemakerClient, Recorder: rec, Logger: log})
//	path, h := inferencev1connect.NewInferenceServiceHandler(svc,
//		append(srv.HandlerOptions(), inference.HandlerOptions()...)...)
//
// behind the authn middleware, which puts the verified caller in the context.
// HandlerOptions raises the read limit to MaxRequestBytes so that 6 MB SageMaker payloads
// fit. Every answer and error carries Portico's request id in the Portico-Request-Id header
// (and in request_id fields), naming the request's audit record. It is the request's own id
// (the X-Request-Id services/server assigns, or adopts from the BFF), so the audit record,
// the logs and the browser name a request alike.
//
// # Authorisation
//
// Every method needs a verified caller; machine clients also need the scope
// portico/inference. A model or endpoint the caller is not entitled to is PERMISSION_DENIED,
// whether or not the catalog knows it, so that the answer reveals nothing about models the
// caller may not use; ListModels lists only entitled ones. NOT_FOUND is left for an entitled
// id the catalog lacks (a policy out of step with the catalog) and for the provider not
// knowing the model. An id of the other provider that the caller may use (an endpoint name
// passed to Converse, a model id to InvokeEndpoint) is INVALID_ARGUMENT, naming the right
// method.
//
// # Validation
//
// Requests are checked once, before anything is reserved or sent, and a failure is
// INVALID_ARGUMENT naming the broken rule: the Converse API's rules and the model's limits
// (package bedrock's Check, whose Conversation the provider then runs without checking it
// again: turns, roles, content, images, system prompt, settings), at
// most MaxTextBytes of text in a conversation, streaming only on models that stream; for
// endpoints, package sagemaker's Validate (payload size and content type, custom
// attributes) plus a well-formed JSON body when the content type is application/json.
//
// # Metering
//
// The four model and endpoint RPCs are one metered call (metered.go): admit, check and
// estimate (each RPC's own), reserve, call the provider, normalise its error, settle, log;
// each RPC supplies only its provider call, its checks and estimate, and its answer.
// Each admitted request is metered by package metering: its worst case (estimated input
// plus max_tokens, or for an endpoint its parameters.max_new_tokens or the endpoint's
// max_output_tokens) is reserved before the call, and what the provider reported is settled
// after it, on success, error and cancel alike. A unary Converse whose caller goes away once
// it is sent runs to its end (Bedrock bills the whole answer) and is settled with the usage
// Bedrock reports; a stream ends with its caller and is settled with the usage so far
// (estimated when Bedrock sent none). Refused requests (not entitled, invalid, over
// quota) are recorded in the audit trail with zero usage; a request that names no model or
// endpoint is refused without a record, having nothing to be attributed to. A stream sends MessageStart (with
// Portico's request id) first, then each delta as it arrives, MessageStop, and, once the
// usage is settled, StreamMetadata with the invocation's metrics.
//
// # Documents and knowledge bases
//
// Document blocks are checked per model like images (package bedrock: count, size, content
// type against bytes, user turns with text; names sanitised, never refused) and estimated
// by metering.EstimateDocument. A request naming a knowledge base (knowledge.go) is checked
// like a model — PERMISSION_DENIED when the caller is not entitled, whether or not it exists;
// PERMISSION_DENIED too when the catalog's entry is outside this deployment's account and
// region (Config.KnowledgeBases) — must name the knowledge base's model, and is grounded
// before the reservation: package retrieval's Retrieve, the passages as numbered sources
// before the last user turn, the passages returned as citations (ConverseResponse.citations,
// or a citations event after MessageStop). A failed retrieval is a refusal (nothing billed);
// the audit record notes the knowledge base, the number of passages and the retrieval's
// latency either way, never their text. A model that cites its documents (catalog
// citations) has its citations passed through the same way.
//
// # Client address
//
// The audit trail records the caller's address and user agent from the Portico-Client-Ip
// and Portico-Client-User-Agent headers only when the token was issued to a trusted front
// door (Config.TrustedClientIDs, configured by portico-services from PORTICO_BFF_CLIENT_IDS;
// empty trusts nobody); otherwise the peer address and the User-Agent header.
//
// # Other front ends
//
// Handlers other than Connect's (the OpenAI-compatible endpoint, package openaicompat) call
// Converse and ConverseStreamTo (ConverseStream for any StreamSink) directly, describing
// their call with WithCall (procedure, peer address, header) for the audit trail: the same
// admission, reservation, settlement and audit as the Connect API.
package inference

// Package localaws is a local stand-in for the AWS endpoints Portico calls: it speaks the
// Amazon Bedrock Runtime (Converse, ConverseStream) and Amazon SageMaker Runtime
// (InvokeEndpoint, InvokeEndpointWithResponseStream) wire protocols, REST-JSON with the AWS
// event-stream encoding for streams, and verifies SigV4 signatures, so the real AWS SDK can be
// pointed at it through its endpoint configuration (AWS_ENDPOINT_URL).
//
// Answers come from a small built-in text generator. It is a development stand-in, not a
// model: its answer depends only on the prompt, is GitHub-flavoured Markdown (a heading, a
// list, a fenced code block and a table), and is streamed token by token at a configurable
// pace. Tokens are counted deterministically: a token is a whitespace-separated word
// (strings.Fields); input tokens are the words of the system prompt and of every text block of
// every message, plus 85 tokens per image. When Config.OpenAIURL is set, requests are
// forwarded to an OpenAI-compatible chat completions server instead (a local Ollama or vLLM).
//
// An Endpoint with Echo set stands in for an echo container (or a raw-text model told to
// repeat a line): its generated text is the request's input, verbatim, and it reports no
// token counts. It is a development and test stand-in, to show that text a caller chooses
// never becomes a usage report.
//
// Faults can be injected for tests, either with Server.Faults (or the control endpoints
// POST and DELETE /_portico/faults) or with a marker in the prompt such as
// "[[fault:throttle]]"; see Fault. A request with a guardrailConfig whose prompt holds
// "[[guardrail]]" gets a guardrail intervention (stopReason guardrail_intervened).
//
// It also accepts Amazon EventBridge PutEvents (POST / with X-Amz-Target AWSEvents.PutEvents,
// SigV4 service "events"), so that the quota alerts Portico emits go through the real SDK: the
// events are checked as EventBridge checks them (1 to 10 entries, Source, DetailType and a JSON
// Detail), kept in memory (Server.Events) and logged, and delivered nowhere.
package localaws

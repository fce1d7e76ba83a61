// Package bedrock runs conversations on Amazon Bedrock models through the AWS SDK's Converse
// and ConverseStream operations.
//
// A Client takes the generated portico.inference.v1 request messages, checks them against
// the model's Limits before calling, and returns the answer, the stop reason, the usage
// reported by Bedrock and the upstream request id. Errors are *connect.Error values with a
// precise code and a message safe to show users; the AWS error stays reachable with
// errors.As for logs. Throttling is retried by the SDK's standard retryer (bounded attempts)
// before it is reported as RESOURCE_EXHAUSTED with a portico.type.v1.RetryAfter detail.
//
// How a handler uses it: build one Client at start-up (NewFromEnv), take the model's Limits
// and optional Guardrail from the catalog and policy, check the request once with Check
// (StreamConversation gives a ConverseStreamRequest's conversation), reserve its estimated
// input plus Conversation.MaxTokens of quota, then call ConverseChecked, or
// ConverseStreamChecked with a SendFunc that sets the request id on the start event and
// forwards every event at once. Converse and ConverseStream check their request themselves. Whatever the outcome,
// settle Result.Usage (Usage.Estimated tells whether Bedrock reported it) and audit
// Result.UpstreamRequestID; on success of a stream, send the metadata event built from
// Result.Usage. Errors from the SendFunc come back wrapped, so the handler sees its own.
//
// A stream's events are read by the SDK with one change: its text deltas, almost all of a
// streamed answer, are decoded by this package from the same bytes (streamProtocol), which
// costs a fraction of the SDK's allocation; every other message is the SDK's to decode.
//
// The endpoint comes only from the SDK's configuration (AWS_ENDPOINT_URL or
// aws.Config.BaseEndpoint), so the code that runs against the local stand-in is the code that
// runs against AWS.
package bedrock

// Package sagemaker invokes Amazon SageMaker real-time endpoints through the AWS SDK's
// InvokeEndpoint and InvokeEndpointWithResponseStream operations.
//
// A Client takes the generated portico.inference.v1 request messages, checks the payload
// against the endpoint's Limits before calling (size, content type, custom attributes), and
// returns the response with the invoked production variant, the container's custom
// attributes, the upstream request id and the usage. Errors are *connect.Error values with a
// precise code and a user-safe message; the AWS error stays reachable with errors.As.
//
// A handler uses it like the bedrock package: one Client from NewFromEnv, the endpoint's
// Limits from the catalog, the request checked once with Check (before quota is reserved)
// and the Payload run with InvokeChecked or InvokeStreamChecked (the SendFunc sets the
// request id on the start event and forwards parts at once), and Result.Usage settled
// whatever the outcome. Invoke and InvokeStream check and run in one step.
//
// Usage: SageMaker itself reports no tokens, so the container's own report is read, but only
// where Limits.Usage (from the catalog) says it lives: the format (ReportOpenAI's top-level
// "usage", ReportTGIDetails' top-level "details", or ReportNone) and the response content
// types it is read from (a whole application/json body, the last line of JSON Lines, the last
// server-sent event). Text a model generated is never read, so a caller who makes a model
// (or an echo container) repeat a fake report changes nothing. Every reported count is
// clamped to what the request could have used (Limits.MaxInputTokens, the context window;
// Limits.MaxOutputTokens, the request's max output): a count outside that, like a count not
// reported, is estimated at one token per 4 bytes (Usage.Estimated, Usage.Clamped). See
// ReadUsage and UsageFrom.
//
// Requests: ReadMaxTokens reads the generation-length parameters of a JSON request the way
// Portico and the container must agree on them: keys are case-sensitive, and a body with a
// duplicate key, or keys differing only in case, is refused with INVALID_ARGUMENT naming the
// key (DuplicateKeyError).
package sagemaker

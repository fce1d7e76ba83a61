// Package metering meters model and endpoint calls: it reserves a request's worst case
// against the caller's quotas before the call, settles what the provider reported after it
// (on success, error and client cancel alike), writes the request's audit record, and
// records per-model metrics.
//
// # Reserve, call, settle
//
// [Meter.Reserve] holds the worst case — the estimated input tokens plus the most output
// tokens the request may generate, and one request — atomically against every limit that
// applies (per-user requests per minute, tokens per day and month, and each charged group's
// monthly pool), in the shared store, so that limits hold across instances and concurrent
// requests never overspend. A refusal is RESOURCE_EXHAUSTED with the
// portico.type.v1.QuotaExceeded and RetryAfter (the window's reset) details; a store that
// cannot be reached is UNAVAILABLE, and nothing is held.
//
// [Call.Settle] replaces the hold by the provider's reported usage (or Portico's estimate,
// marked as such: the audit record's usage source is reported, estimated, or clamped when
// the provider reported a count the request could not have used), prices it from the catalog's price table, and writes the audit record. It
// runs under context.WithoutCancel, so a client that went away is still recorded. Because the
// worst case was held before the first token, a quota cannot run out in the middle of a
// stream: the stream may always use what it reserved.
//
// Requests refused before anything was spent (not entitled, invalid, over quota) are
// recorded too, by [Meter.Refuse]: an audit record with the outcome and zero usage, holding
// nothing and counting against no quota.
//
// # Estimating input tokens
//
// [EstimateConverse] counts one token per 3 bytes of UTF-8 text, rounded up, plus 4 tokens
// per message for the role and framing, [TokensPerImage] per image and [EstimateDocument] per
// document (its bytes counted as text, plus a page image per PDF page, plus framing);
// [EstimatePayload] counts an endpoint's payload as text. English averages about 4 bytes per token and code about
// 3, so the estimate is above what providers report for almost every request; it decides only
// how much is held, never what is charged.
//
// # Metrics
//
// Every reserved or refused request is observed once by a [Recorder]: requests, input and output tokens,
// latency, time to first token, errors and upstream throttles per model. [NewRecorder]
// returns OpenTelemetry instruments on the given MeterProvider and, on AWS Lambda
// (AWS_LAMBDA_FUNCTION_NAME set), CloudWatch Embedded Metric Format lines on stdout in the
// namespace "Portico".
//
// # Store errors
//
// [StoreError] and [QuotaExceeded] are the one place where a store error becomes the Connect
// error a client gets, for the inference and admin services alike.
//
// The audit record never holds prompts or completions.
package metering

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
// The endpoint comes only from the SDK's configuration (AWS_ENDPOINT_URL or
// aws.Config.BaseEndpoint), so the code that runs against the local stand-in is the code that
// runs against AWS.
package bedrock

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
// Limits from the catalog, Invoke or InvokeStream (the SendFunc sets the request id on the
// start event and forwards parts at once), and Result.Usage settled whatever the outcome.
//
// Usage: SageMaker itself reports no tokens, so the container's answer is read (see
// ParseUsage); what it does not report is estimated at one token per 4 bytes and marked
// estimated.
package sagemaker

// Package awsrt holds the plumbing the AWS runtime clients (packages bedrock and
// sagemaker) share: their options (one Option type both take) and retry settings, an
// HTTP client that works around the SDK closing request bodies early, and the connect
// errors with RetryAfter details they return. Each client keeps its own mapping of its
// service's exceptions to connect codes; the error codes every AWS service shares
// (AuthFailure, Throttled) are named once here.
package awsrt

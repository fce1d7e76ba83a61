// Package retrieval queries Amazon Bedrock Knowledge Bases with the bedrock-agent-runtime
// Retrieve API (aws-sdk-go-v2) and turns what comes back into numbered sources: the
// passages a grounded prompt quotes and the citations an answer returns.
//
// Errors are *connect.Error with precise codes and user-safe messages: throttling and
// service quotas are RESOURCE_EXHAUSTED with a RetryAfter detail, a knowledge base Bedrock
// does not know is NOT_FOUND, a knowledge base the deployment may not read is
// PERMISSION_DENIED, a refused query INVALID_ARGUMENT, a failing dependency or an
// unreachable service UNAVAILABLE.
//
// Passages are untrusted text (whoever can write to the knowledge base's data source wrote
// them): Prompt quotes them as numbered sources inside delimiters and tells the model to
// treat them as material, not instructions. Nothing here logs a passage or a query.
package retrieval

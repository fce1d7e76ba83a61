// Package lambdahttp runs any http.Handler on AWS Lambda with response streaming, behind
// either
//
//   - a Lambda Function URL with InvokeMode RESPONSE_STREAM (event
//     events.LambdaFunctionURLRequest), or
//   - an API Gateway REST API Lambda proxy integration with responseTransferMode STREAM
//     (event events.APIGatewayProxyRequest).
//
// It talks to the Lambda Runtime API itself (next, response, error, init/error) instead of
// going through aws-lambda-go's lambda and lambdaurl packages, whose writer has no Flush
// (connect-go refuses server streams without http.Flusher), no trailers and no panic
// recovery, and whose runtime client does not send the streaming response-mode header.
//
// Both integrations take the same streaming output: a JSON prelude ({statusCode, headers,
// cookies} for Function URLs; API Gateway also reads multiValueHeaders), eight NUL bytes,
// then the raw body, POSTed to the Runtime API with
// "Lambda-Runtime-Function-Response-Mode: streaming" and chunked transfer encoding. See
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html (response streaming) and
// https://docs.aws.amazon.com/apigateway/latest/developerguide/response-transfer-mode-lambda.html
// ("Lambda proxy integration format for response streaming": metadata JSON, the 8-NUL
// delimiter, then the payload; the metadata must come within the first 16 KB).
//
// The writer buffers until the handler flushes (or 32 KB accumulate), and each Flush
// becomes one chunk on the wire at once, so server-streaming RPCs reach the client as they
// are produced. The request context is cancelled shortly before the invocation deadline or
// the Runtime API connection fails. A panic before the response started becomes a 500; a
// panic mid-stream ends the stream with the Runtime API's error trailers.
//
// Protocols: Connect (unary and server streaming) and gRPC-Web work through Lambda, because
// they carry their status in the body or in headers. gRPC needs HTTP/2 trailers, which
// neither integration passes, so gRPC requests get a trailers-only UNIMPLEMENTED answer;
// use gRPC against a standalone server. HTTP trailers set by a handler are sent as headers
// when the response was not streamed yet, and dropped otherwise.
//
// A configuration error on Lambda is the function's init error (ReportInitError), so that
// Lambda shows it. Commands that run only on Lambda and take their events through
// aws-lambda-go (the authorizer, the Cognito trigger) start with a Startup: their logger,
// and Fail, which logs the configuration error and reports it.
//
// Mode selection (Config, built by each command's configuration): AWS_LAMBDA_RUNTIME_API
// unset → not on Lambda; set → Lambda, with PORTICO_LAMBDA_EVENT = "function-url" (default)
// or "api-gateway" (ParseEvent).
package lambdahttp

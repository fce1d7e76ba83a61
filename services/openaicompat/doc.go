// Package openaicompat is Portico's OpenAI-compatible endpoint: the subset of OpenAI's Chat
// Completions API that scripts, notebooks and tools (the OpenAI SDKs, LangChain, editor
// assistants) use, served by the services next to the Connect handlers, on the same port.
//
//	GET  /v1/models              the caller's entitled chat models (Bedrock models)
//	GET  /v1/models/{model}      one of them
//	POST /v1/chat/completions    a chat completion, whole or streamed
//
// Callers authenticate with `Authorization: Bearer` and a personal API key (package apikey),
// a person's sign-in token, or a machine client's client-credentials token holding the
// portico/inference scope (its scope's entitlements apply). Every completion goes through
// inference.Service — the same admission, exact reservation, settlement (on success, error
// and client cancel alike; a client that goes away stops the model call) and audit record as
// the Connect API — with the procedure recorded as "/v1/chat/completions" and, for a key,
// the key's prefix.
//
// Requests are mapped onto Converse: messages with roles system and developer (joined, in
// order, into the system prompt), user and assistant; content as a string or as parts of
// type text and image_url (data URLs of PNG, JPEG, GIF or WebP only: the services fetch
// nothing); max_completion_tokens or max_tokens; temperature; top_p; stop (a string or up to
// four strings); stream with stream_options.include_usage (the usage arrives in a last chunk
// whose choices are empty). Streams are server-sent events, one chunk per delta as the model
// produces it, ended by `data: [DONE]`; an error after the stream began is sent as a last
// `data: {"error": …}` event without [DONE].
//
// Parsing is strict, as OpenAI's own API is: an unknown parameter is a 400 naming it. A
// parameter that changes what the model does and that Portico cannot honour — tools,
// tool_choice, functions, function_call, n other than 1, logprobs, top_logprobs,
// logit_bias, response_format other than text, audio, modalities other than text,
// prediction, seed, presence_penalty and frequency_penalty other than 0, reasoning_effort,
// web_search_options — is a 400 naming it. Parameters that change nothing about the answer
// are accepted and ignored: user, safety_identifier, prompt_cache_key, metadata,
// service_tier, store (false), parallel_tool_calls, and a message's name.
//
// Errors have OpenAI's shape, {"error": {"message", "type", "param", "code"}}, with matching
// statuses: 400 bad request, 401 no or bad credentials, 403 a machine client without the
// inference scope, 404 a model that does not exist or that the caller may not use
// (model_not_found, as OpenAI answers both), 413 a body over MaxBodyBytes, 429 with
// Retry-After for a quota (insufficient_quota; the wait until the quota's window resets) or
// the provider's throttling (rate_limit_exceeded), 503 when a store, the issuer's keys or the
// provider cannot be reached, 504 at the deadline.
package openaicompat

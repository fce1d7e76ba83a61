// Package smoke checks a Portico deployment end to end as a machine client would use it, and
// reports what failed and why. It is what `portico smoke` runs after a deploy, and what the
// deployment pipeline runs between UAT and production.
//
// Run makes these checks, in order, each one reported whether it passed or not:
//
//   - discovery: the issuer's OpenID discovery document names a token endpoint (skipped
//     when the token URL is configured);
//   - token: the client-credentials grant issues an access token;
//   - GetMe: the services accept the token and say who the client is;
//   - ListModels: the models and endpoints the client is entitled to;
//   - Converse and ConverseStream on each entitled Bedrock model, asking for one token, so
//     a model that is not enabled, not subscribed, not offered in the region or throttled
//     shows up as that model's failure;
//   - InvokeEndpoint on each entitled SageMaker endpoint that takes JSON or text, with a
//     one-token request in the {"inputs", "parameters": {"max_new_tokens"}} convention of
//     the Hugging Face LLM containers (skipped for other content types, or when disabled);
//   - GetUsage: the calls above were metered.
//
// Each failure carries a Class computed from the Connect code, the error details (a
// portico.type.v1.QuotaExceeded detail marks Portico's own quota) and the message (AWS's
// wording for marketplace subscriptions, the Anthropic first-use form, and models that do
// not run on demand in a region), so a table of results says at a glance whether to enable
// model access, subscribe, switch to an inference profile, raise a quota or wait.
package smoke

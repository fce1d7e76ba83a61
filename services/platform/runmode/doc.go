// Package runmode says whether a Portico process runs for development or in production, and
// collects the settings production must be given explicitly.
//
// PORTICO_ENV is development (the default) or production; a process on AWS Lambda
// (AWS_LAMBDA_RUNTIME_API set) is in production whatever PORTICO_ENV says. In production a
// binary never falls back to a dev default (the dev issuer, client ids, policy, store, keys,
// URLs): its configuration reader records each such variable left unset with
// Requirements.Need, and start-up fails with one *MissingError naming all of them.
//
//	mode, err := runmode.Parse(getenv(runmode.Env), onLambda)
//	var req runmode.Requirements
//	if mode.Production() {
//		req.Need("PORTICO_ISSUER", getenv("PORTICO_ISSUER"))
//		req.Need("PORTICO_POLICY_FILE", getenv("PORTICO_POLICY_FILE"))
//	}
//	if err := req.Err(); err != nil { ... }
package runmode

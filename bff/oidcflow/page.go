package oidcflow

import (
	"html/template"
	"net/http"
)

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Portico</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2933}
h1{font-size:1.4rem}a{color:#0b5cad}.code{color:#6b7280;font-size:.85rem}</style></head>
<body><main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p><a href="/auth/login">Sign in again</a> · <a href="/">Home</a></p>
{{with .Code}}<p class="code">Reference: {{.}}</p>{{end}}
</main></body></html>
`))

// page is a friendly HTML error page.
type page struct {
	Status  int
	Title   string
	Message string
	Code    string
}

// Friendly pages of the sign-in flow.
var (
	pageUnavailable = page{http.StatusServiceUnavailable, "Sign-in is unavailable right now",
		"The sign-in service cannot be reached. Please try again in a few minutes.", "idp_unavailable"}
	pageBadReturnTo = page{http.StatusBadRequest, "That link cannot be used to sign in",
		"The page to return to after sign-in must be a page of this site.", "invalid_return_to"}
	pageLoginExpired = page{http.StatusBadRequest, "This sign-in has expired",
		"The sign-in took too long, was already completed, or was started in another tab. Please start again.", "invalid_state"}
	pageExchangeFailed = page{http.StatusBadRequest, "Sign-in could not be completed",
		"The sign-in service did not confirm who you are. Please start again.", "invalid_grant"}
	pageDenied = page{http.StatusForbidden, "Sign-in was cancelled or refused",
		"You cancelled the sign-in, or your account may not use Portico. Ask your administrator for access.", "access_denied"}
	pageIdPError = page{http.StatusBadGateway, "Sign-in failed",
		"The sign-in service reported an error. Please try again.", "idp_error"}
	pageSessionsUnavailable = page{http.StatusServiceUnavailable, "Sign-in could not be saved right now",
		"Portico could not store your session. Please sign in again in a moment.", "sessions_unavailable"}
	pageNoLocalSignIn = page{http.StatusNotFound, "Local sign-in is not offered here",
		"Sign in with your organisation's account.", "local_sign_in_disabled"}
	pageBadIdP = page{http.StatusBadRequest, "That link cannot be used to sign in",
		"The sign-in method asked for is not one Portico offers.", "invalid_idp"}
	pageLogoutState = page{http.StatusBadRequest, "This sign-out did not start here",
		"The sign-out link was not started from this browser, or has expired. You are signed out of Portico.", "invalid_logout_state"}
	pageInternal = page{http.StatusInternalServerError, "Something went wrong",
		"Portico could not complete the sign-in. Please try again.", "internal"}
)

// writePage writes p. The headers package adds the security headers.
func writePage(w http.ResponseWriter, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = pageTemplate.Execute(w, p)
}

package oidcflow

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"connectrpc.com/connect"
)

// RetryAfter is what the BFF tells a browser to wait, in the Retry-After header, when a
// session cannot be used right now (the session store or the provider did not answer) but
// is not over.
const RetryAfter = 2 * time.Second

// unavailable sets Retry-After on w and returns an Unavailable connect error with msg.
// The session and its cookie are left as they were.
func unavailable(w http.ResponseWriter, msg string) error {
	setRetryAfter(w)
	return connect.NewError(connect.CodeUnavailable, errors.New(msg))
}

// setRetryAfter tells the browser to try again after RetryAfter.
func setRetryAfter(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
}

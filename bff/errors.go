package bff

import (
	"errors"
	"net/http"

	"connectrpc.com/connect"
)

func errNotFound(r *http.Request) error {
	return connect.NewError(connect.CodeNotFound, errors.New("no such endpoint: "+r.Method+" "+r.URL.Path))
}

func errMethod(r *http.Request) error {
	return connect.NewError(connect.CodeUnimplemented, errors.New("method not allowed: "+r.Method+" "+r.URL.Path))
}

package inference

import (
	"errors"
	"net/http"

	"connectrpc.com/connect"
)

// StreamSink receives a stream's events as they are produced; *connect.ServerStream is one,
// and so is the OpenAI-compatible endpoint's writer of server-sent events.
type StreamSink[T any] interface {
	// Send sends one event; an error means the client went away.
	Send(ev *T) error
	// ResponseHeader is the header sent with the first event.
	ResponseHeader() http.Header
}

// forwarder sends a provider's stream events to the client as they arrive: the start event
// first (the provider's own, with the request id set, or start when the provider skipped
// it), then every other event. It notes when the client could not be reached.
type forwarder[T any] struct {
	stream StreamSink[T]
	rid    string
	// start is the start event sent when the provider sends none; it carries rid.
	start *T
	// isStart reports whether ev is a start event, setting its request id to rid.
	isStart func(ev *T, rid string) bool
	// afterStart, when set, is sent right after the start event.
	afterStart *T

	started, gone bool
}

// newForwarder returns a forwarder for a stream whose request id is rid, and sets the
// request id header.
func newForwarder[T any](stream StreamSink[T], rid string, start *T, isStart func(*T, string) bool) *forwarder[T] {
	stream.ResponseHeader().Set(RequestIDHeader, rid)
	return &forwarder[T]{stream: stream, rid: rid, start: start, isStart: isStart}
}

// send is the provider's SendFunc.
func (f *forwarder[T]) send(ev *T) error {
	if f.isStart(ev, f.rid) {
		if f.started {
			return nil
		}
		return f.sendStart(ev)
	}
	if !f.started { // the start event always comes first, even if the provider skipped it
		if err := f.sendStart(f.start); err != nil {
			return err
		}
	}
	return f.forward(ev)
}

// sendStart sends the start event, then afterStart when set.
func (f *forwarder[T]) sendStart(start *T) error {
	f.started = true
	if err := f.forward(start); err != nil {
		return err
	}
	if f.afterStart != nil {
		return f.forward(f.afterStart)
	}
	return nil
}

// forward sends one event to the client, noting when the client could not be reached (it
// went away: the provider stops at once, and the call counts as canceled).
func (f *forwarder[T]) forward(ev *T) error {
	err := f.stream.Send(ev)
	if err != nil {
		f.gone = true
	}
	return err
}

// callError returns the provider call's error, CANCELED if the client went away.
func (f *forwarder[T]) callError(err error) error {
	if err != nil && f.gone {
		return connect.NewError(connect.CodeCanceled, errors.New("the client went away"))
	}
	return err
}

// finish ends a successful stream: the start event if none was sent, then metadata.
func (f *forwarder[T]) finish(metadata *T) error {
	if !f.started {
		if err := f.sendStart(f.start); err != nil {
			return err
		}
	}
	return f.stream.Send(metadata)
}

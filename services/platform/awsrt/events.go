package awsrt

import "context"

// Next receives the next event of an SDK event stream. It returns ok false when the
// stream has ended, and ctx's error when ctx ends first (the caller then closes the stream).
func Next[T any](ctx context.Context, events <-chan T) (ev T, ok bool, err error) {
	select {
	case <-ctx.Done():
		return ev, false, ctx.Err()
	case ev, ok = <-events:
		return ev, ok, nil
	}
}

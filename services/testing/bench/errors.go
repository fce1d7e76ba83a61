package bench

import "errors"

var errNoChunk = errors.New("bench: the stream ended without a content message")

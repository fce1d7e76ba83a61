package proxy

import "sync"

// copyBufferSize is the size of the buffers responses are copied through: what
// httputil.ReverseProxy allocates for every response without a pool.
const copyBufferSize = 32 << 10

// bufferPool lends the reverse proxy its response copy buffers. Without it every proxied
// call allocated 32 KiB, most of the BFF's allocated bytes per call, which set the garbage
// collector's pace.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { return new([copyBufferSize]byte) }}}
}

// Get returns a buffer of copyBufferSize bytes.
func (b *bufferPool) Get() []byte { return b.p.Get().(*[copyBufferSize]byte)[:] }

// Put returns a buffer Get lent; anything else is dropped.
func (b *bufferPool) Put(buf []byte) {
	if cap(buf) == copyBufferSize {
		b.p.Put((*[copyBufferSize]byte)(buf[:copyBufferSize]))
	}
}

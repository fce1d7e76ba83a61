// Package gostack grows a goroutine's stack at once, before deep work, instead of letting
// the runtime grow it step by step on the way down.
//
// A goroutine starts with a small stack (2 KiB, or the runtime's adaptive start: the average
// stack the garbage collector scanned, which the many idle connection goroutines of a server
// keep near the minimum; GODEBUG=adaptivestackstart=1 is already Go's default). When a call
// does not fit, runtime.newstack doubles the stack and copies every frame on it, adjusting
// each frame's pointers (runtime.copystack; the cost shows as runtime.pcvalue and
// runtime.step, per frame). A request here goes deep — token verification, the policy,
// SQLite (modernc's translated C has large frames), the AWS SDK's middleware stack — so its
// stack doubled four or five times, the later copies with dozens of frames on them:
// callgrind counted about a fifth of the services' instructions per GetMe and a sixth per
// Converse in the runtime's stack-copying functions. Grow, called near the top of the
// goroutine, costs one copy of a few shallow frames instead (after it: 6 % and 3 %).
//
// The runtime grows a stack to fit the frame that overflowed it (newstack doubles until the
// frame fits), so calling a function whose frame is half the target takes the stack from
// its start to the target in one copy. A grown stack is freed when its goroutine ends, and
// the garbage collector shrinks the stack of a goroutine that uses a quarter of it or less,
// as it does for any stack.
package gostack

// Bytes is the stack Grow gives a goroutine: what a services request uses (a doubling more,
// 128 KiB, made no measurable difference to the requests' instruction counts and doubles the
// memory a burst of streams holds in stacks).
const Bytes = 64 << 10

// Grow makes the calling goroutine's stack at least Bytes, in one growth. Call it at the top
// of a goroutine that will go deep (a request's handler, a background store read).
func Grow() { _ = grow(Bytes) }

// grow's frame holds a buffer of half of Bytes (the stack guard and the caller's frames fit
// in the other half). i keeps the compiler from folding the buffer away; the result is
// meaningless.
//
//go:noinline
func grow(i int) byte {
	var buf [Bytes / 2]byte
	buf[i%len(buf)] = 1
	return buf[(i+1)%len(buf)]
}

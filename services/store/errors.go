package store

import (
	"errors"
	"fmt"
	"time"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// ErrQuotaExceeded is matched (errors.Is) by every [*QuotaError].
var ErrQuotaExceeded = errors.New("quota exceeded")

// ErrUnavailable is matched by every error that comes from the storage backend being closed,
// unreachable or failing. Nothing is half-written when it is returned from Reserve: either
// the hold is complete or it is released (at once, or by the reservation TTL). Map it to
// UNAVAILABLE.
var ErrUnavailable = errors.New("store unavailable")

// ErrCorrupt is matched by errors for data a backend holds that breaks the store's invariants,
// such as a negative counter. Such errors match ErrUnavailable too: nothing that depends on
// the data is served until it is repaired (map it to UNAVAILABLE or INTERNAL, never to
// "no usage").
var ErrCorrupt = errors.New("store data corrupt")

// ErrInvalid is matched by errors for arguments the store refuses: a malformed
// reservation, filter or page token, or a request id that was already used. Map it to
// INVALID_ARGUMENT (or, for Reserve, to INTERNAL: the handler built the reservation).
var ErrInvalid = errors.New("invalid argument")

// QuotaError says that a reservation would pass a limit. It names the first limit that
// refused it, in the order of [Ticket.Holds] (by counter key).
type QuotaError struct {
	// Status is the limit's state when the reservation was refused.
	Status QuotaStatus
	// Requested is how much the refused request needed against this limit (its worst-case
	// tokens, or 1 request).
	Requested int64
}

// Error describes the refusal without any user data but the limit.
func (e *QuotaError) Error() string {
	return fmt.Sprintf("quota exceeded: %s: used %d + reserved %d + requested %d > limit %d (resets %s)",
		e.Status.Limit, e.Status.Used, e.Status.Reserved, e.Requested, e.Status.Limit.Max,
		e.Status.ResetsAt.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrQuotaExceeded.
func (e *QuotaError) Is(target error) bool { return target == ErrQuotaExceeded }

// Proto returns the error detail to attach to a RESOURCE_EXHAUSTED error.
func (e *QuotaError) Proto() *typev1.QuotaExceeded {
	return &typev1.QuotaExceeded{Status: e.Status.Proto(), Requested: e.Requested}
}

// RetryAfter returns the RetryAfter detail: try again when the window resets.
func (e *QuotaError) RetryAfter(now time.Time) *typev1.RetryAfter {
	d := e.Status.ResetsAt.Sub(now)
	if d < 0 {
		d = 0
	}
	return &typev1.RetryAfter{RetryAt: timestamppb.New(e.Status.ResetsAt), DelayMs: d.Milliseconds()}
}

// Corrupt returns an error matching ErrCorrupt (and ErrUnavailable) with a message.
func Corrupt(format string, args ...any) error {
	return &corruptError{msg: fmt.Sprintf(format, args...)}
}

type corruptError struct{ msg string }

func (e *corruptError) Error() string { return "store data corrupt: " + e.msg }
func (e *corruptError) Is(target error) bool {
	return target == ErrCorrupt || target == ErrUnavailable
}

type unavailableError struct {
	op  string
	err error
}

func (e *unavailableError) Error() string        { return e.op + ": store unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error        { return e.err }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unavailable wraps a backend error from operation op so that it matches ErrUnavailable and
// still unwraps to err. A nil err returns nil; an error that already matches ErrUnavailable,
// ErrInvalid or ErrQuotaExceeded is returned as it is.
func Unavailable(op string, err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrQuotaExceeded) {
		return err
	}
	return &unavailableError{op: op, err: err}
}

// Invalid returns an error matching ErrInvalid with a message.
func Invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

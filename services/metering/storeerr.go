package metering

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"connectrpc.com/connect"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/catalog"
	"github.com/portico-dev/portico/services/store"
)

// Blame says whose arguments a store refused with store.ErrInvalid.
type Blame int

const (
	// BlameHandler says the handler built the store's arguments (a reservation, a usage
	// query): a refusal is the service's fault, INTERNAL.
	BlameHandler Blame = iota
	// BlameCaller says the caller's own arguments reached the store (a filter, a page token):
	// a refusal is INVALID_ARGUMENT with the store's message.
	BlameCaller
)

// StoreError and QuotaExceeded are the one place where store errors become the
// *connect.Error a client gets. StoreError logs the cause under op, what the handler was
// doing ("list usage"), with attrs (never user data), and returns INVALID_ARGUMENT with the
// store's message or INTERNAL for store.ErrInvalid, as blame says; UNAVAILABLE for
// store.ErrUnavailable (store.ErrCorrupt matches it); INTERNAL "could not <op>" for anything
// else. A reservation refused by a limit (*store.QuotaError) is QuotaExceeded's.
func StoreError(ctx context.Context, log *slog.Logger, op string, err error, blame Blame, attrs ...slog.Attr) *connect.Error {
	switch {
	case errors.Is(err, store.ErrInvalid) && blame == BlameCaller:
		return connect.NewError(connect.CodeInvalidArgument, err)
	case errors.Is(err, store.ErrUnavailable):
		log.LogAttrs(ctx, slog.LevelError, op+": store unavailable", append(attrs, slog.Any("error", err))...)
		return connect.NewError(connect.CodeUnavailable, errors.New("usage store unavailable; retry later"))
	}
	log.LogAttrs(ctx, slog.LevelError, op+" failed", append(attrs, slog.Any("error", err))...)
	return connect.NewError(connect.CodeInternal, fmt.Errorf("could not %s", op))
}

// QuotaExceeded returns the RESOURCE_EXHAUSTED error for a refused reservation, with the
// QuotaExceeded and RetryAfter details.
func QuotaExceeded(qe *store.QuotaError, now time.Time) *connect.Error {
	s := qe.Status
	ce := connect.NewError(connect.CodeResourceExhausted, fmt.Errorf(
		"quota exceeded: %s: used %d, reserved by requests in flight %d, this request needs up to %d; resets at %s",
		s.Limit, s.Used, s.Reserved, qe.Requested, s.ResetsAt.UTC().Format(time.RFC3339)))
	if s.Limit.Unit == typev1.QuotaUnit_QUOTA_UNIT_COST {
		amount := func(n int64) string { return catalog.FormatNanos(n) + " " + catalog.Currency }
		ce = connect.NewError(connect.CodeResourceExhausted, fmt.Errorf(
			"budget exceeded: %s %s: spent %s, held by requests in flight %s, this request may cost up to %s; resets at %s",
			s.Limit, catalog.Currency, amount(s.Used), amount(s.Reserved), amount(qe.Requested), s.ResetsAt.UTC().Format(time.RFC3339)))
	}
	if d, err := connect.NewErrorDetail(qe.Proto()); err == nil {
		ce.AddDetail(d)
	}
	if d, err := connect.NewErrorDetail(qe.RetryAfter(now)); err == nil {
		ce.AddDetail(d)
	}
	return ce
}

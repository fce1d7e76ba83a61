package sqlitestore

import (
	"math"

	"github.com/portico-dev/portico/services/store"
)

// SQLite's sum() fails the whole query with "integer overflow" when a sum of integers passes
// the int64 range, so a few huge summaries would make usage unreadable. Each summed column is
// therefore summed in two halves, its high and its low 32 bits (every value is >= 0): each
// half's sum stays in range up to 2^31 rows in one group, which no ledger reaches, and the
// halves are joined in Go, saturating at math.MaxInt64.

// half is one column's two half sums, as scanned.
type half struct{ hi, lo int64 }

// value joins the halves: hi * 2^32 + lo, saturating.
func (h half) value() int64 {
	if h.hi < 0 || h.lo < 0 {
		return 0 // values are never negative; a negative half sum is a row that broke that
	}
	if h.hi >= 1<<31 {
		return math.MaxInt64
	}
	return store.AddSat(h.hi<<32, h.lo)
}

// summed are the summed usage_daily columns of a totals query, in their SELECT order.
type summed struct{ req, errs, in, out, cost half }

// sumColumns is the SELECT list of the usage_daily columns' half sums, in summed's order.
const sumColumns = `coalesce(sum(requests >> 32), 0), coalesce(sum(requests & 4294967295), 0),
	coalesce(sum(errors >> 32), 0), coalesce(sum(errors & 4294967295), 0),
	coalesce(sum(input_tokens >> 32), 0), coalesce(sum(input_tokens & 4294967295), 0),
	coalesce(sum(output_tokens >> 32), 0), coalesce(sum(output_tokens & 4294967295), 0),
	coalesce(sum(cost_nanos >> 32), 0), coalesce(sum(cost_nanos & 4294967295), 0)`

// dest returns the scan destinations of sumColumns.
func (s *summed) dest() []any {
	return []any{&s.req.hi, &s.req.lo, &s.errs.hi, &s.errs.lo, &s.in.hi, &s.in.lo, &s.out.hi, &s.out.lo, &s.cost.hi, &s.cost.lo}
}

// totals returns the sums as usage totals.
func (s *summed) totals() store.Totals {
	return store.Totals{Requests: s.req.value(), Errors: s.errs.value(),
		InputTokens: s.in.value(), OutputTokens: s.out.value(), CostNanos: s.cost.value()}
}

package catalog

import (
	"errors"
	"fmt"
	"math/bits"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

// ErrUnknownModel is returned (wrapped) when an id names no model in the catalog.
var ErrUnknownModel = errors.New("unknown model")

// ErrTokens is returned (wrapped) for negative or absurdly large token counts.
var ErrTokens = errors.New("invalid token count")

// maxTokens bounds the token counts Cost accepts; no request comes near it, and it keeps
// every intermediate product far below the int64 range.
const maxTokens = 1 << 40

// Cost returns the estimated cost of a request to the model: inTokens input tokens and
// outTokens output tokens at the catalog's prices, as an exact Money in US dollars.
//
// The exact cost is (inTokens×InputPer1k + outTokens×OutputPer1k) / 1000 nanos. When that
// division leaves a remainder, the cost is rounded up to the next whole nano, once, on the
// request's total (never per token), so that an estimate is never below the price list.
func (c *Catalog) Cost(modelID string, inTokens, outTokens int64) (*typev1.Money, error) {
	n, err := c.CostNanos(modelID, inTokens, outTokens)
	if err != nil {
		return nil, err
	}
	return USD(n), nil
}

// CostNanos is Cost in nanos of US dollars, the form the usage store records.
func (c *Catalog) CostNanos(modelID string, inTokens, outTokens int64) (int64, error) {
	m, ok := c.byID[modelID]
	if !ok {
		return 0, fmt.Errorf("cost of %q: %w", modelID, ErrUnknownModel)
	}
	return c.models[m].Price.CostNanos(inTokens, outTokens)
}

// CostNanos returns the estimated cost of inTokens input and outTokens output tokens at
// price p, in nanos of US dollars, rounded up to a whole nano as [Catalog.Cost] documents.
func (p Price) CostNanos(inTokens, outTokens int64) (int64, error) {
	if inTokens < 0 || outTokens < 0 || inTokens > maxTokens || outTokens > maxTokens {
		return 0, fmt.Errorf("%w: %d input, %d output", ErrTokens, inTokens, outTokens)
	}
	if p.InputPer1k < 0 || p.OutputPer1k < 0 {
		// A Price built by hand (a file's prices are parsed unsigned) must not wrap around.
		return 0, fmt.Errorf("%w: negative price", ErrTokens)
	}
	// Prices are at most 9e18 nanos per 1k and counts at most 2^40: use 128-bit products.
	hi1, lo1 := bits.Mul64(uint64(inTokens), uint64(p.InputPer1k))
	hi2, lo2 := bits.Mul64(uint64(outTokens), uint64(p.OutputPer1k))
	lo, carry := bits.Add64(lo1, lo2, 0)
	hi, _ := bits.Add64(hi1, hi2, carry)
	lo, carry = bits.Add64(lo, 999, 0) // round up
	hi += carry
	if hi >= 1000 {
		return 0, fmt.Errorf("%w: cost overflows", ErrTokens)
	}
	q, _ := bits.Div64(hi, lo, 1000)
	if q > 1<<63-1 {
		return 0, fmt.Errorf("%w: cost overflows", ErrTokens)
	}
	return int64(q), nil
}

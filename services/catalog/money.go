package catalog

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

// NanosPerUnit is the number of nanos in one whole unit of a currency.
const NanosPerUnit = 1_000_000_000

// Currency is the ISO 4217 code of every amount Portico computes.
const Currency = "USD"

// ErrMoney is returned (wrapped) for amounts that are malformed, of another currency, or
// too large to hold.
var ErrMoney = errors.New("invalid money amount")

// USD returns nanos billionths of a US dollar as a Money, with units and nanos of the same
// sign.
func USD(nanos int64) *typev1.Money {
	return &typev1.Money{
		CurrencyCode: Currency,
		Units:        nanos / NanosPerUnit,
		Nanos:        int32(nanos % NanosPerUnit),
	}
}

// Nanos returns m as a count of billionths of a US dollar. A nil Money is zero. It fails for
// another currency, mixed signs, nanos out of range, or an amount past ±9.2 billion USD.
func Nanos(m *typev1.Money) (int64, error) {
	if m == nil {
		return 0, nil
	}
	unsetZero := m.GetCurrencyCode() == "" && m.GetUnits() == 0 && m.GetNanos() == 0
	if m.GetCurrencyCode() != Currency && !unsetZero {
		return 0, fmt.Errorf("%w: currency %q, want %s", ErrMoney, m.GetCurrencyCode(), Currency)
	}
	u, n := m.GetUnits(), int64(m.GetNanos())
	if n <= -NanosPerUnit || n >= NanosPerUnit {
		return 0, fmt.Errorf("%w: nanos %d out of range", ErrMoney, n)
	}
	if (u > 0 && n < 0) || (u < 0 && n > 0) {
		return 0, fmt.Errorf("%w: units %d and nanos %d differ in sign", ErrMoney, u, n)
	}
	if u > math.MaxInt64/NanosPerUnit || u < math.MinInt64/NanosPerUnit {
		return 0, fmt.Errorf("%w: %d units is too large", ErrMoney, u)
	}
	return u*NanosPerUnit + n, nil
}

// AddMoney returns the exact sum of amounts in US dollars; nil amounts count as zero.
func AddMoney(amounts ...*typev1.Money) (*typev1.Money, error) {
	var sum int64
	for _, m := range amounts {
		n, err := Nanos(m)
		if err != nil {
			return nil, err
		}
		s, ok := addNanos(sum, n)
		if !ok {
			return nil, fmt.Errorf("%w: sum overflows", ErrMoney)
		}
		sum = s
	}
	return USD(sum), nil
}

// FormatMoney prints m exactly, with at least two decimals and no trailing zeros past them,
// followed by its currency: "0.0045 USD", "12.50 USD", "-0.000000001 USD". A malformed
// amount prints as "invalid".
func FormatMoney(m *typev1.Money) string {
	n, err := Nanos(m)
	if err != nil {
		return "invalid"
	}
	return FormatNanos(n) + " " + Currency
}

// FormatNanos prints an amount of nanos as a decimal number of units, exactly, with at least
// two decimals: 4500000 prints as "0.0045".
func FormatNanos(n int64) string {
	sign := ""
	whole, rem := n/NanosPerUnit, n%NanosPerUnit
	if n < 0 {
		sign = "-"
		whole, rem = -whole, -rem // |MinInt64 / 1e9| fits: safe for MinInt64
	}
	frac := fmt.Sprintf("%09d", rem)
	frac = strings.TrimRight(frac, "0")
	for len(frac) < 2 {
		frac += "0"
	}
	return sign + strconv.FormatInt(whole, 10) + "." + frac
}

// ParseNanos parses a non-negative decimal amount of units such as "0.0008" into nanos,
// exactly. More than nine decimals, signs, exponents and amounts past 9 billion are refused.
func ParseNanos(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 9 || strings.ContainsAny(whole, "+-") || len(whole) > 10 {
		return 0, fmt.Errorf("%w: %q is not a decimal amount with at most 9 decimals", ErrMoney, s)
	}
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a decimal amount", ErrMoney, s)
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil || strings.ContainsAny(frac, "+-") {
			return 0, fmt.Errorf("%w: %q is not a decimal amount", ErrMoney, s)
		}
	}
	if w > 9_000_000_000 {
		return 0, fmt.Errorf("%w: %q is too large", ErrMoney, s)
	}
	return w*NanosPerUnit + f, nil
}

func addNanos(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

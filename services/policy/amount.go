package policy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MaxAmountUnits is the largest budget a policy may set, in whole units of the price table's
// currency (a billion): more is a typing mistake, and its nanos still fit an int64 with room.
const MaxAmountUnits = 1_000_000_000

// AmountDecimals is the most decimals a budget may have: budgets are exact micro-units.
const AmountDecimals = 6

// amountSyntax is a budget as written: digits, and optionally a point and 1 to 6 digits.
var amountSyntax = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,6})?$`)

// ParseAmount parses a budget written as a decimal amount of the price table's currency
// ("12.50", "0.000001") exactly, with no floating point, and returns it in nanos (billionths
// of a unit), the unit every cost is computed and counted in. A budget has at most six
// decimals (micro-units), is positive, and at most MaxAmountUnits. Signs, exponents, spaces,
// currency symbols and separators are refused.
func ParseAmount(s string) (int64, error) {
	if !amountSyntax.MatchString(s) {
		return 0, fmt.Errorf("budget %q is not a decimal amount such as \"12.50\" (digits, at most %d decimals, no sign or currency; quote it in YAML)", s, AmountDecimals)
	}
	whole, frac, _ := strings.Cut(s, ".")
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > len(strconv.Itoa(MaxAmountUnits)) {
		return 0, fmt.Errorf("budget %s is absurd: at most %d", s, MaxAmountUnits)
	}
	units, _ := strconv.ParseInt("0"+whole, 10, 64)
	micros, _ := strconv.ParseInt(frac+strings.Repeat("0", AmountDecimals-len(frac)), 10, 64)
	if units > MaxAmountUnits || (units == MaxAmountUnits && micros > 0) {
		return 0, fmt.Errorf("budget %s is absurd: at most %d", s, MaxAmountUnits)
	}
	n := units*1_000_000_000 + micros*1_000
	if n <= 0 {
		return 0, fmt.Errorf("budget must be positive (omit it for no budget), got %s", s)
	}
	return n, nil
}

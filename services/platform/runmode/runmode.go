package runmode

import (
	"fmt"
	"strings"
)

// Env is the variable that selects the mode.
const Env = "PORTICO_ENV"

// Mode is development or production.
type Mode string

const (
	// Development allows the dev defaults (make dev, tests).
	Development Mode = "development"
	// Production requires every security-relevant setting to be explicit.
	Production Mode = "production"
)

// Parse returns the mode a PORTICO_ENV value selects: empty means development, and onLambda
// (the process runs on AWS Lambda) means production whatever the value says.
func Parse(value string, onLambda bool) (Mode, error) {
	var m Mode
	switch v := strings.ToLower(strings.TrimSpace(value)); v {
	case "", string(Development):
		m = Development
	case string(Production):
		m = Production
	default:
		return Production, fmt.Errorf("%s=%q: want development or production", Env, value)
	}
	if onLambda {
		m = Production
	}
	return m, nil
}

// Production reports whether m is Production.
func (m Mode) Production() bool { return m == Production }

// Requirements collects the variables a production process lacks. The zero value is ready
// to use.
type Requirements struct {
	missing []string
}

// Need records name as missing when value is empty or blank.
func (r *Requirements) Need(name, value string) {
	if strings.TrimSpace(value) == "" {
		r.missing = append(r.missing, name)
	}
}

// NeedOneOf records names as missing (as "A or B") when every value is empty or blank. names
// and values are paired by position.
func (r *Requirements) NeedOneOf(names []string, values ...string) {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return
		}
	}
	r.missing = append(r.missing, strings.Join(names, " or "))
}

// Err returns nil when nothing is missing, else one *MissingError naming every missing
// variable in the order recorded.
func (r *Requirements) Err() error {
	if len(r.missing) == 0 {
		return nil
	}
	return &MissingError{Variables: append([]string(nil), r.missing...)}
}

// MissingError names every variable production requires that is not set.
type MissingError struct {
	// Variables are the missing names ("A or B" where either will do).
	Variables []string
}

// Error lists the variables.
func (e *MissingError) Error() string {
	return fmt.Sprintf("production (%s=production or AWS Lambda) uses no dev defaults; set %s",
		Env, strings.Join(e.Variables, ", "))
}

package smoke

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Status is the outcome of a check.
type Status string

// The statuses.
const (
	StatusOK      Status = "ok"
	StatusFailed  Status = "FAIL"
	StatusSkipped Status = "skipped"
)

// Check is the result of one step.
type Check struct {
	// Name is the step: "discovery", "token", or an RPC's method name.
	Name string
	// Target is the model id or endpoint name the step called, or what it addressed.
	Target string
	// Status is the outcome.
	Status Status
	// Class is the kind of failure, for a failed check.
	Class Class
	// Detail says what was seen: a summary of the answer, the error, or why it was skipped.
	Detail string
	// Took is how long the step took.
	Took time.Duration
}

// Report is the result of a run.
type Report struct {
	// URL is the services URL checked.
	URL string
	// Protocol is the RPC protocol spoken.
	Protocol string
	// Checks are the steps in the order they ran.
	Checks []Check
}

// OK reports whether no check failed.
func (r *Report) OK() bool { return len(r.Failed()) == 0 }

// Failed returns the failed checks.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == StatusFailed {
			out = append(out, c)
		}
	}
	return out
}

// Find returns the check of a step on a target, if it ran.
func (r *Report) Find(name, target string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name && c.Target == target {
			return c, true
		}
	}
	return Check{}, false
}

// WriteTable writes the report as an aligned table, then a one-line verdict.
func (r *Report) WriteTable(w io.Writer) error {
	// The tabwriter buffers every line until Flush, which reports any write error.
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintf(tw, "Portico smoke test of %s (%s)\n\n", r.URL, r.Protocol)
	_, _ = fmt.Fprintln(tw, "CHECK\tTARGET\tRESULT\tCLASS\tTIME\tDETAIL")
	for _, c := range r.Checks {
		class := string(c.Class)
		if class == "" {
			class = "-"
		}
		took := "-"
		if c.Status != StatusSkipped {
			took = c.Took.Round(time.Millisecond).String()
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, or(c.Target, "-"), c.Status, class, took, oneLine(c.Detail))
	}
	failed := r.Failed()
	if len(failed) == 0 {
		_, _ = fmt.Fprintf(tw, "\nPASS: %d checks passed\n", len(r.Checks)-r.skipped())
		return tw.Flush()
	}
	var names []string
	for _, c := range failed {
		what := c.Name
		if c.Target != "" {
			what += " " + c.Target
		}
		names = append(names, fmt.Sprintf("%s (%s)", what, c.Class))
	}
	_, _ = fmt.Fprintf(tw, "\nFAIL: %d of %d checks failed: %s\n", len(failed), len(r.Checks)-r.skipped(), strings.Join(names, "; "))
	return tw.Flush()
}

func (r *Report) skipped() int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == StatusSkipped {
			n++
		}
	}
	return n
}

// oneLine keeps a detail on its table row.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

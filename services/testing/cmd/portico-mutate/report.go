package main

import (
	"fmt"
	"strings"
	"time"
)

// report renders the results as docs/mutations.md.
func report(results []result, commit string, took time.Duration) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	caught := 0
	for _, r := range results {
		if r.caught {
			caught++
		}
	}
	w("# Mutation check\n\n")
	w("Written by `make mutate` (`go run ./services/testing/cmd/portico-mutate`) on %s at commit `%s`; the run took %s. ",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), commit, took.Round(time.Second))
	w("Each row is a known-dangerous change to the code that keeps tokens, quotas, entitlements, redirects and the BFF's procedure allowlist honest, ")
	w("applied to a temporary copy of the tree (never the working tree) with the tests of the listed packages run against it: ")
	w("the tests must fail. The list, with the exact text each mutation replaces, is `services/testing/cmd/portico-mutate/mutations.go`.\n\n")
	w("**%d of %d mutations caught.**\n\n", caught, len(results))
	w("| mutation | packages tested | caught | by |\n|---|---|---|---|\n")
	for _, r := range results {
		verdict, by := "**no**", "—"
		if r.caught {
			verdict, by = "yes", "`"+strings.Join(r.by, "`, `")+"`"
		}
		w("| %s | %s | %s | %s |\n", escape(r.m.name), "`"+strings.Join(r.m.pkgs, "` `")+"`", verdict, by)
	}
	w("\nRerun one: `go run ./services/testing/cmd/portico-mutate -run 'token: crit'` (prints the verdict; `-out` writes a report).\n")
	return b.String()
}

func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

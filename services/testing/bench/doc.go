// Package bench holds the instruments behind `make bench`: an open-loop constant-rate load
// generator and a concurrent-stream driver that record every latency (no sampling), exact
// percentiles and medians, a launcher for the real Portico binaries on free loopback ports
// (with RSS and open-file counts read from /proc), a minimal browser that signs in to the BFF
// through the dev identity provider's form, and a runner that summarises `go test -bench`
// output. Command portico-bench assembles them and writes docs/benchmarks.md.
package bench

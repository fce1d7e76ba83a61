package main

import (
	"context"

	"github.com/portico-dev/portico/services/testing/bench"
)

// microSet is one package's micro-benchmarks and their parsed samples.
type microSet struct {
	title   string
	bench   bench.GoBench
	samples bench.Samples
	err     error
}

// micro are the Go micro-benchmarks make bench runs, five counts each.
var micro = []microSet{
	{title: "Token verification (services/token): warm verifier vs bare RSA-2048 PKCS#1 v1.5 of the same token, and a cached token",
		bench: bench.GoBench{Pkg: "./services/token", Regexp: "^BenchmarkVerify$", Count: 5, BenchTime: "300ms"}},
	{title: "Cookie codec (bff/cookie): AES-256-GCM seal and open of a 3,200-byte session",
		bench: bench.GoBench{Pkg: "./bff/cookie", Regexp: "^Benchmark(Seal|Open)$", Count: 5, BenchTime: "300ms"}},
	{title: "Bare AES-256-GCM of the same 3,200 bytes (services/testing/bench baseline)",
		bench: bench.GoBench{Pkg: "./services/testing/bench", Regexp: "^BenchmarkAESGCM", Count: 5, BenchTime: "300ms"}},
	{title: "Policy decision (services/policy): entitlements of a two-group user",
		bench: bench.GoBench{Pkg: "./services/policy", Regexp: "^BenchmarkEntitlements$", Count: 5, BenchTime: "300ms"}},
	{title: "Policy decision through the run-time getter (services/livepolicy), alone and while another goroutine writes and applies new versions",
		bench: bench.GoBench{Pkg: "./services/livepolicy", Regexp: "^BenchmarkDecision", Count: 5, BenchTime: "300ms"}},
	{title: "Store reserve + settle (services/store/sqlitestore), serial and from parallel goroutines",
		bench: bench.GoBench{Pkg: "./services/store/sqlitestore", Regexp: "^BenchmarkReserveSettle", Count: 5, BenchTime: "300ms"}},
	{title: "Usage reads as history grows (services/store/sqlitestore): Usage (GetUsage's totals) and ListUsage (the month by day, user and model) after 10 and after 100,000 requests over the same days and models",
		bench: bench.GoBench{Pkg: "./services/store/sqlitestore", Regexp: "^BenchmarkUsageHistory$", Count: 3, BenchTime: "300ms"}},
	{title: "Usage reads as history grows (services/store/dynamostore on dynalite): items Usage and ListUsage read after 10 and after 2,000 requests (dynalite settles ~100 requests/s here, so 100,000 would take a quarter of an hour; the reads are one item per day and combination either way), and the reads' time",
		bench: bench.GoBench{Pkg: "./services/store/dynamostore", Regexp: "^BenchmarkUsageReads$", Count: 1, BenchTime: "1x"}},
	{title: "Inference service's own cost per Converse (auth, policy, reserve, settle, audit on SQLite) beside a direct SDK call to the local AWS endpoint in the same run, one at a time and at 500 req/s; per-delta forwarding delay of a stream",
		bench: bench.GoBench{Pkg: "./services/inference", Regexp: "^Benchmark(ConverseOverhead|ConverseAt500rps|StreamForwarding)$", Count: 5, BenchTime: "1s"}},
	{title: "Kept conversations (services/conversation/sqlitestore): ListConversations' first page of 1,000 conversations, search over 10,000 messages, the store's part of a kept 20-turn turn (history read + user turn stored)",
		bench: bench.GoBench{Pkg: "./services/conversation/sqlitestore", Regexp: "^Benchmark(List1000|Search10000|HistoryAndTurn)$", Count: 3, BenchTime: "300ms"}},
	{title: "Kept conversations (services/inference): time to first token of a 20-turn conversation kept by the service vs sent whole (stateless), alternately in the same run",
		bench: bench.GoBench{Pkg: "./services/inference", Regexp: "^BenchmarkConversationTurn$", Count: 3, BenchTime: "30x"}},
	{title: "BFF added latency and throughput vs a bare httputil.ReverseProxy on the same route, and streamed chunk delay (in-process)",
		bench: bench.GoBench{Pkg: "./bff", Regexp: "^Benchmark(BFFvsReverseProxy|StreamChunkLatency)$", Count: 5, BenchTime: "1s"}},
	{title: "Price computation (services/catalog)",
		bench: bench.GoBench{Pkg: "./services/catalog", Regexp: "^BenchmarkCost", Count: 5, BenchTime: "300ms"}},
}

func runMicro(ctx context.Context, root string) []microSet {
	out := make([]microSet, len(micro))
	for i, m := range micro {
		logf("  %s", m.bench.Command())
		m.samples, _, m.err = m.bench.Run(ctx, root)
		out[i] = m
	}
	return out
}

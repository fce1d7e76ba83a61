package bff_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portico-dev/portico/bff/proxy"
)

// unaryBench measures one unary Connect call per iteration with client, recording each
// call's latency, and reports p50 and p99 besides ns/op.
func unaryBench(b *testing.B, client *http.Client, newReq func() *http.Request) {
	b.Helper()
	durations := make([]time.Duration, 0, 1024)
	for b.Loop() {
		durations = append(durations, call(b, client, newReq()))
	}
	slices.Sort(durations)
	if n := len(durations); n > 0 {
		b.ReportMetric(float64(durations[n/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(durations[n*99/100].Microseconds()), "p99-µs")
	}
}

// call sends one request and returns how long it took.
func call(b *testing.B, client *http.Client, req *http.Request) time.Duration {
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %s", resp.Status)
	}
	return time.Since(start)
}

// benchTargets are three ways to reach the same fake service: directly, through a bare
// httputil.ReverseProxy, and through the BFF (cookie open, header checks, allowlist, proxy).
type benchTargets struct {
	client            *http.Client
	direct, bare, bff func() *http.Request
}

func newBenchTargets(b *testing.B) benchTargets {
	s := newStack(b, stackOptions{})
	br := s.browser()
	br.signIn("alice", "/")
	upURL, _ := url.Parse(s.up.srv.URL)
	bare := httputil.NewSingleHostReverseProxy(upURL)
	bare.Transport = proxy.NewTransport(upURL)
	bareURL := serveBench(b, &http.Server{Handler: http.StripPrefix("/api", bare)})
	plain := func(target string) func() *http.Request {
		return func() *http.Request {
			req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			return req
		}
	}
	return benchTargets{
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}},
		direct: plain(s.up.srv.URL + "/portico.identity.v1.IdentityService/GetMe"),
		// The bare proxy gets the browser's request as is (cookies and all), like the BFF.
		bare: func() *http.Request {
			req := br.request(context.Background(), http.MethodPost, getMe, strings.NewReader("{}"), true)
			req.URL, _ = url.Parse(bareURL + getMe)
			req.Host = ""
			return req
		},
		bff: func() *http.Request {
			return br.request(context.Background(), http.MethodPost, getMe, strings.NewReader("{}"), true)
		},
	}
}

func serveBench(b *testing.B, srv *http.Server) string {
	b.Helper()
	ln, err := listenLoopback()
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// BenchmarkUnary reports the cost and latency percentiles of one unary call directly,
// through a bare reverse proxy and through the BFF.
func BenchmarkUnary(b *testing.B) {
	t := newBenchTargets(b)
	b.Run("direct", func(b *testing.B) { unaryBench(b, t.client, t.direct) })
	b.Run("bare-reverse-proxy", func(b *testing.B) { unaryBench(b, t.client, t.bare) })
	b.Run("bff", func(b *testing.B) { unaryBench(b, t.client, t.bff) })
}

// BenchmarkBFFvsReverseProxy interleaves the same call directly, through a bare reverse
// proxy and through the BFF, and reports the BFF's throughput as a fraction of the bare
// proxy's (the goal is ≥ 0.70) and the latency the BFF adds over the direct call at p50 and
// p99 (goals: ≤ 300 µs and ≤ 1,000 µs).
func BenchmarkBFFvsReverseProxy(b *testing.B) {
	t := newBenchTargets(b)
	var direct, bare, viaBFF []time.Duration
	for b.Loop() {
		direct = append(direct, call(b, t.client, t.direct()))
		bare = append(bare, call(b, t.client, t.bare()))
		viaBFF = append(viaBFF, call(b, t.client, t.bff()))
	}
	sum := func(ds []time.Duration) (total time.Duration) {
		for _, d := range ds {
			total += d
		}
		return total
	}
	pct := func(ds []time.Duration, p int) time.Duration {
		ds = slices.Sorted(slices.Values(ds))
		return ds[len(ds)*p/100]
	}
	b.ReportMetric(float64(sum(bare))/float64(sum(viaBFF)), "bff/bare-throughput")
	b.ReportMetric(float64((pct(viaBFF, 50) - pct(direct, 50)).Microseconds()), "added-p50-µs")
	b.ReportMetric(float64((pct(viaBFF, 99) - pct(direct, 99)).Microseconds()), "added-p99-µs")
}

// BenchmarkStreamChunkLatency measures how long each streamed chunk takes from the
// upstream's flush to the browser through the BFF (goal: p99 ≤ 1 ms). One op is one chunk;
// the upstream paces chunks 500 µs apart, like a model streaming tokens.
func BenchmarkStreamChunkLatency(b *testing.B) {
	s := newStack(b, stackOptions{})
	br := s.browser()
	br.signIn("alice", "/")
	req := br.request(context.Background(), http.MethodPost,
		"/api/portico.inference.v1.InferenceService/InvokeEndpointStream?gap=500us&n="+strconv.Itoa(b.N), strings.NewReader("{}"), true)
	b.ResetTimer()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	latencies := make([]time.Duration, 0, b.N)
	sc := bufio.NewScanner(resp.Body)
	for i := 0; i < b.N && sc.Scan(); i++ {
		sent, err := strconv.ParseInt(sc.Text(), 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, time.Since(time.Unix(0, sent)))
	}
	b.StopTimer()
	if len(latencies) != b.N {
		b.Fatalf("received %d chunks, want %d (%v)", len(latencies), b.N, sc.Err())
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "chunk-p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "chunk-p99-µs")
}

package main_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/portico-dev/portico/services/platform/lambdahttp/runtimeapitest"
)

// reportStartTimes reports the median and worst of the samples, in milliseconds.
func reportStartTimes(b *testing.B, samples []time.Duration) {
	b.Helper()
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(samples[len(samples)/2]), "ms-median")
	b.ReportMetric(ms(samples[len(samples)-1]), "ms-max")
	b.ReportMetric(0, "ns/op") // the loop time includes process teardown: not meaningful
}

func stopProcess(b *testing.B, cmd *exec.Cmd) {
	b.Helper()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		b.Logf("exit: %v", err)
	}
}

// BenchmarkStartToReady reports the time from exec of the standalone server (all services:
// embedded policy and catalog, an existing SQLite store, AWS clients) to its first 200 from
// GET /healthz.
func BenchmarkStartToReady(b *testing.B) {
	client := &http.Client{Timeout: time.Second}
	dir := b.TempDir() // one store for every run: a warm start, as on a developer machine
	var samples []time.Duration
	for b.Loop() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		cmd := exec.Command(binary)
		cmd.Env = append(baseEnv(dir), "PORTICO_SERVICES_ADDR="+addr, "PORTICO_LOG_FORMAT=json")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for {
			resp, err := client.Get("http://" + addr + "/healthz")
			if err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Since(start) > 30*time.Second {
				b.Fatalf("not ready after 30 s: %v", err)
			}
			time.Sleep(200 * time.Microsecond)
		}
		samples = append(samples, time.Since(start))
		stopProcess(b, cmd)
	}
	reportStartTimes(b, samples)
}

// BenchmarkStartToReadyLambda reports the time from exec of the function to its first
// call of the Runtime API's /next (Lambda's definition of the end of init).
func BenchmarkStartToReadyLambda(b *testing.B) {
	dir := b.TempDir()
	var samples []time.Duration
	for b.Loop() {
		api := runtimeapitest.New()
		cmd := exec.Command(binary)
		cmd.Env = append(baseEnv(dir), "AWS_LAMBDA_RUNTIME_API="+api.Addr())
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-api.Polls():
			samples = append(samples, at.Sub(start))
		case <-time.After(30 * time.Second):
			b.Fatal("no /next call after 30 s")
		}
		stopProcess(b, cmd)
		api.Close()
	}
	reportStartTimes(b, samples)
}

// BenchmarkLambdaBinarySize builds the Lambda bootstrap as `make build` does (linux/arm64,
// CGO off, -trimpath, -tags lambda.norpc, stripped) and reports its size.
func BenchmarkLambdaBinarySize(b *testing.B) {
	out := filepath.Join(b.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", out, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64")
	if msg, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, msg)
	}
	info, err := os.Stat(out)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(info.Size())/(1<<20), "MiB")
	b.ReportMetric(float64(info.Size()), "bytes")
	b.ReportMetric(0, "ns/op")
}

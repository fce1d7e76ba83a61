// Command echoserver is the function the lambdahttp tests run as a real process against a
// local Runtime API: Portico's server (request ids, logs, recovery, connect options) with
// the servertest echo service mounted without authentication, plus raw HTTP routes under
// /raw/ that sit outside the server's own recovery, to exercise the adapter directly.
//
// Environment: AWS_LAMBDA_RUNTIME_API and PORTICO_LAMBDA_EVENT as for every Portico function;
// ECHO_COUNT_PAUSE (a Go duration) is the pause between streamed Count messages.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portico-dev/portico/services/platform/lambdahttp"
	"github.com/portico-dev/portico/services/platform/logs"
	"github.com/portico-dev/portico/services/platform/server"
	"github.com/portico-dev/portico/services/platform/server/servertest"
	"github.com/portico-dev/portico/services/platform/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "echoserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	log := telemetry.NewLogger(os.Stderr, logs.JSON, slog.LevelDebug)
	cfg := lambdahttp.Config{RuntimeAPI: os.Getenv(lambdahttp.RuntimeAPIEnv)}
	var err error
	if cfg.Event, err = lambdahttp.ParseEvent(os.Getenv(lambdahttp.EventEnv)); err != nil {
		_ = lambdahttp.ReportInitError(ctx, cfg, err)
		return err
	}
	if !cfg.OnLambda() {
		return errors.New("run me on Lambda (set AWS_LAMBDA_RUNTIME_API)")
	}
	pause, _ := time.ParseDuration(os.Getenv("ECHO_COUNT_PAUSE"))
	srv, err := server.New(server.WithLogger(log), server.WithAuth(func(h http.Handler) http.Handler { return h }))
	if err != nil {
		return err
	}
	srv.Mount(servertest.NewHandler(servertest.Options{CountPause: pause}, srv.HandlerOptions()...))
	mux := http.NewServeMux()
	mux.Handle("/", srv.Handler())
	mux.HandleFunc("/raw/panic", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Discarded", "yes")
		panic("echoserver: panic before the response")
	})
	mux.HandleFunc("/raw/panic-after-flush", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic("echoserver: panic mid-stream")
	})
	mux.HandleFunc("/raw/headers", rawHeaders)
	return lambdahttp.Serve(ctx, cfg, mux, lambdahttp.WithLogger(log))
}

// rawHeaders reports what the adapter made of the request, and answers with repeated
// headers, two cookies and a trailer.
func rawHeaders(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Add("X-Multi-Out", "a")
	w.Header().Add("X-Multi-Out", "b")
	for _, name := range []string{"one", "two"} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "1", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"method":     r.Method,
		"host":       r.Host,
		"hostHeader": r.Header.Get("Host"),
		"path":       r.URL.Path,
		"query":      r.URL.Query()["q"],
		"cookie":     r.Header.Get("Cookie"),
		"multi":      r.Header.Values("X-Multi-In"),
		"remoteAddr": r.RemoteAddr,
		"body":       body,
		"requestId":  r.Header.Get("X-Request-Id"),
	})
	w.Header().Set(http.TrailerPrefix+"X-Done", "yes")
}

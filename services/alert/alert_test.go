package alert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
	"github.com/portico-dev/portico/services/alert"
	"github.com/portico-dev/portico/services/dev/localaws"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/sqlitestore"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

var (
	dayTokens = store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: typev1.QuotaWindow_QUOTA_WINDOW_DAY,
		Unit: typev1.QuotaUnit_QUOTA_UNIT_TOKENS, Max: 1000}
	groupBudget = store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_GROUP, Group: "MLUsers", Window: typev1.QuotaWindow_QUOTA_WINDOW_MONTH,
		Unit: typev1.QuotaUnit_QUOTA_UNIT_COST, Max: 10_000_000_000}
	minuteRequests = store.Limit{Subject: typev1.QuotaSubject_QUOTA_SUBJECT_USER, Window: typev1.QuotaWindow_QUOTA_WINDOW_MINUTE,
		Unit: typev1.QuotaUnit_QUOTA_UNIT_REQUESTS, Max: 1}
)

// eventBridge returns an EventBridge emitter through the real SDK to a local AWS endpoint.
func eventBridge(t *testing.T) (alert.EventBridge, *localaws.Server) {
	t.Helper()
	srv := localaws.New(localaws.Config{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	client := eventbridge.New(eventbridge.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider(localaws.DefaultAccessKeyID, localaws.DefaultSecretAccessKey, ""),
	})
	return alert.EventBridge{Client: client, Bus: "portico-alerts"}, srv
}

type env struct {
	st  *sqlitestore.Store
	now time.Time
	n   int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{now: t0}
	st, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "a.db"), store.Options{Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.st = st
	return e
}

// spend settles a request of alice's that used tokens and cost against limits (it reserves
// nothing: a settle adds what was used, even past a limit, as a provider's report may).
func (e *env) spend(t *testing.T, tokens, cost int64, limits ...store.Limit) {
	t.Helper()
	e.n++
	tk, err := e.st.Reserve(t.Context(), store.Reservation{RequestID: "r" + string(rune('a'+e.n)), User: "alice", Groups: []string{"MLUsers"},
		ModelID: "m", Limits: limits, Department: "Research"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Settle(t.Context(), tk, store.Outcome{InputTokens: tokens, CostNanos: cost}); err != nil {
		t.Fatal(err)
	}
}

// TestThresholdsOncePerWindow: 79 % alerts nothing; 80 % alerts once however many checks
// race; 100 % alerts once more; the next day's window alerts again. Events go through the
// real SDK to the local EventBridge.
func TestThresholdsOncePerWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	eb, aws := eventBridge(t)
	w := alert.New(alert.Config{Store: e.st, Emitter: eb, Now: func() time.Time { return e.now }})
	limits := []store.Limit{dayTokens, groupBudget, minuteRequests}
	check := func(n int) {
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if err := w.Check(t.Context(), "alice", "Research", limits); err != nil {
					t.Errorf("Check: %v", err)
				}
			})
		}
		wg.Wait()
	}
	e.spend(t, 790, 1_000_000_000, limits[:2]...)
	check(5)
	if n := len(aws.Events()); n != 0 {
		t.Fatalf("%d events at 79 %%, want none", n)
	}
	e.spend(t, 10, 7_500_000_000, limits[:2]...) // 800 tokens: 80 %; 8.50 of 10: 85 %
	check(20)
	evs := aws.Events()
	if len(evs) != 2 {
		t.Fatalf("%d events at 80 %%, want one per limit: %+v", len(evs), evs)
	}
	var got []alert.Detail
	for _, ev := range evs {
		if ev.Source != alert.Source || ev.DetailType != alert.DetailType || ev.Bus != "portico-alerts" {
			t.Errorf("event %+v", ev)
		}
		var d alert.Detail
		if err := json.Unmarshal([]byte(ev.Detail), &d); err != nil {
			t.Fatal(err)
		}
		got = append(got, d)
	}
	byUnit := map[string]alert.Detail{}
	for _, d := range got {
		byUnit[d.Unit] = d
	}
	if d := byUnit["tokens"]; d.Subject != "user" || d.User != "alice" || d.Department != "Research" || d.Threshold != 80 ||
		d.Used != 800 || d.Limit != 1000 || d.Window != "day" || !d.ResetsAt.Equal(t0.Truncate(24*time.Hour).Add(24*time.Hour)) {
		t.Errorf("tokens alert = %+v", d)
	}
	if d := byUnit["cost"]; d.Subject != "group" || d.Group != "MLUsers" || d.Threshold != 80 || d.UsedAmount != "8.50" ||
		d.LimitAmount != "10.00" || d.Currency != "USD" || d.Window != "month" {
		t.Errorf("cost alert = %+v", d)
	}
	e.spend(t, 500, 0, limits[:2]...) // 130 %
	check(10)
	if evs = aws.Events(); len(evs) != 3 || !strings.Contains(evs[2].Detail, `"thresholdPercent":100`) {
		t.Fatalf("after 100 %%: %d events, last %+v", len(evs), evs[len(evs)-1])
	}
	// The next day: a new window, its own alerts (the month's budget stays marked).
	e.now = t0.AddDate(0, 0, 1)
	e.spend(t, 1000, 0, dayTokens)
	check(3)
	if evs = aws.Events(); len(evs) != 4 || !strings.Contains(evs[3].Detail, `"thresholdPercent":100`) {
		t.Errorf("next day: %d events", len(evs))
	}
}

// TestJumpEmitsOnlyTheHighest: a request that takes a limit from below 80 % past 100 % alerts
// once, at 100 %, and marks 80 % too (it never alerts later in the window).
func TestJumpEmitsOnlyTheHighest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewJSONHandler(lockedWriter{&buf, &mu}, nil))
	w := alert.New(alert.Config{Store: e.st, Emitter: alert.Log{Logger: log}, Now: func() time.Time { return e.now }})
	e.spend(t, 1200, 0, dayTokens)
	if err := w.Check(t.Context(), "alice", "", []store.Limit{dayTokens}); err != nil {
		t.Fatal(err)
	}
	if err := w.Check(t.Context(), "alice", "", []store.Limit{dayTokens}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if n := strings.Count(out, "thresholdPercent"); n != 1 || !strings.Contains(out, `\"thresholdPercent\":100`) {
		t.Errorf("log = %s", out)
	}
	page, err := e.st.ListAlerts(t.Context(), store.AlertFilter{Now: e.now})
	if err != nil || len(page.Marks) != 1 || page.Marks[0].Threshold != store.ThresholdFull {
		t.Errorf("listed = %+v, %v; want the 100 %% mark", page.Marks, err)
	}
	key, resets := store.CounterKey("alice", dayTokens, e.now)
	near := store.AlertMark{Key: key, Threshold: store.ThresholdNear, User: "alice", Limit: dayTokens, ResetsAt: resets, Time: e.now}
	if fresh, err := e.st.MarkAlert(t.Context(), near); fresh || err != nil {
		t.Errorf("80 %% mark = %v, %v; want it marked already", fresh, err)
	}
}

// TestSettledNeverBlocks: Settled returns at once, checks in the background, and skips when
// every slot is busy; minute limits never alert.
func TestSettledNeverBlocks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	block := make(chan struct{})
	em := &blockingEmitter{block: block}
	w := alert.New(alert.Config{Store: e.st, Emitter: em, Concurrency: 1, Now: func() time.Time { return e.now }})
	e.spend(t, 900, 0, dayTokens)
	w.Settled(t.Context(), "alice", "", []store.Limit{dayTokens}) // takes the one slot, blocks in Emit
	em.waitStarted(t)
	w.Settled(t.Context(), "alice", "", []store.Limit{dayTokens}) // no slot: skipped, returns at once
	w.Settled(t.Context(), "alice", "", []store.Limit{minuteRequests})
	close(block)
	if alert.Alerting([]store.Limit{minuteRequests}) != nil {
		t.Error("a per-minute limit alerts")
	}
}

// TestEmitFailureKeepsTheMark: an event EventBridge refuses (or cannot take) is an error and
// is not sent again.
func TestEmitFailureKeepsTheMark(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := alert.New(alert.Config{Store: e.st, Emitter: failing{}, Now: func() time.Time { return e.now }})
	e.spend(t, 900, 0, dayTokens)
	if err := w.Check(t.Context(), "alice", "", []store.Limit{dayTokens}); err == nil {
		t.Error("a failed emit was not reported")
	}
	if err := w.Check(t.Context(), "alice", "", []store.Limit{dayTokens}); err != nil {
		t.Errorf("second check: %v (the mark stands: nothing to emit)", err)
	}
	eb, _ := eventBridge(t)
	eb.Bus = ""
	if err := eb.Emit(t.Context(), alert.Detail{Unit: "tokens"}); err != nil {
		t.Errorf("default bus: %v", err)
	}
	eb.Client = eventbridge.New(eventbridge.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), RetryMaxAttempts: 1})
	if err := eb.Emit(t.Context(), alert.Detail{}); err == nil {
		t.Error("an unreachable bus did not fail")
	}
}

type failing struct{}

func (failing) Emit(context.Context, alert.Detail) error { return errors.New("down") }

type blockingEmitter struct {
	block   chan struct{}
	started sync.Once
	ch      chan struct{}
	mu      sync.Mutex
}

func (b *blockingEmitter) Emit(context.Context, alert.Detail) error {
	b.mu.Lock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	ch := b.ch
	b.mu.Unlock()
	b.started.Do(func() { close(ch) })
	<-b.block
	return nil
}

func (b *blockingEmitter) waitStarted(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.mu.Lock()
		ch := b.ch
		b.mu.Unlock()
		if ch != nil {
			<-ch
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the background check never emitted")
		}
		time.Sleep(time.Millisecond)
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

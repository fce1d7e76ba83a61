package dynamostore

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	adminv1 "github.com/portico-dev/portico/gen/go/portico/admin/v1"
	"github.com/portico-dev/portico/services/store"
	"github.com/portico-dev/portico/services/store/storetest"
)

// TestUpgradeToSummaries: a table written before usage summaries (records only) reads the
// same before and after the upgrade, and while summaries take over: the day of the first
// summary and the days before it from records, the days after it from summaries.
func TestUpgradeToSummaries(t *testing.T) {
	t.Parallel()
	db := client(t)
	table := newTable(t, db)
	clock := storetest.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	n := 0
	settle := func(s *Store, users ...string) {
		t.Helper()
		for _, u := range users {
			n++
			tk, err := s.Reserve(t.Context(), store.Reservation{RequestID: fmt.Sprint("u", n), User: u, Groups: []string{"MLUsers"},
				ModelID: []string{"m1", "m2"}[n%2], Tokens: 10})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Settle(t.Context(), tk, store.Outcome{InputTokens: int64(n), OutputTokens: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	f := store.UsageFilter{StartDay: "2026-12-01", EndDay: "2026-12-31", GroupBy: []adminv1.UsageDimension{
		adminv1.UsageDimension_USAGE_DIMENSION_DAY, adminv1.UsageDimension_USAGE_DIMENSION_USER, adminv1.UsageDimension_USAGE_DIMENSION_MODEL}}
	// check compares the reads with the ledger, summed record by record.
	check := func(s *Store, when string) {
		t.Helper()
		page, err := s.ListAudit(t.Context(), store.AuditFilter{PageSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		want := store.NewAggregator(f)
		var alice store.Totals
		for _, r := range page.Records {
			want.Add(store.Fact{Day: r.Day(), User: r.User, Groups: r.Groups, ModelID: r.ModelID, Totals: r.Totals()})
			if r.User == "alice" {
				alice.Add(r.Totals())
			}
		}
		got, err := s.ListUsage(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		if w := want.Report(); !reflect.DeepEqual(got, w) || got.Totals.Requests != int64(n) {
			t.Errorf("%s: ListUsage =\n%+v\nthe ledger sums to\n%+v", when, got, w)
		}
		if u, err := s.Usage(t.Context(), "alice", nil); err != nil || u.ThisMonth != alice {
			t.Errorf("%s: alice's month = %+v, %v; the ledger sums to %+v", when, u.ThisMonth, err, alice)
		}
	}

	// Before the upgrade: records only (the summaries this code wrote are taken away).
	settle(New(db, table, store.Options{Now: clock.Now}), "alice", "bob", "alice")
	out, err := db.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range out.Items {
		if strings.HasPrefix(getStr(it, "PK"), "USAGE#") {
			if _, err := db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key(getStr(it, "PK"), getStr(it, "SK"))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	upgraded := New(db, table, store.Options{Now: clock.Now})
	check(upgraded, "before any summary")

	// The first summaries, the next day: that day still reads from records.
	clock.Advance(24 * time.Hour)
	settle(upgraded, "alice", "carol")
	if since, err := upgraded.summariesSince(t.Context()); err != nil || since != "2026-12-05" {
		t.Fatalf("SINCE = %q, %v; want the day of the first summary", since, err)
	}
	check(upgraded, "on the day of the first summary")
	// The day after: summaries, and another instance agrees.
	clock.Advance(24 * time.Hour)
	settle(New(db, table, store.Options{Now: clock.Now}), "alice", "alice", "bob")
	check(upgraded, "the day after")
	check(New(db, table, store.Options{Now: clock.Now}), "the day after, another instance")
}

// TestFreshTableSummarisesEveryDay: a table with no record when the first summary is written
// reads every day from summaries.
func TestFreshTableSummarisesEveryDay(t *testing.T) {
	t.Parallel()
	db := client(t)
	s := New(db, newTable(t, db), store.Options{})
	if since, err := s.summariesSince(t.Context()); err != nil || since != noSummaries {
		t.Fatalf("SINCE of an empty table = %q, %v", since, err)
	}
	tk, err := s.Reserve(t.Context(), store.Reservation{RequestID: "a", User: "alice", ModelID: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(t.Context(), tk, store.Outcome{}); err != nil {
		t.Fatal(err)
	}
	if since, err := New(db, s.table, store.Options{}).summariesSince(t.Context()); err != nil || since != allDays {
		t.Fatalf("SINCE = %q, %v; want every day", since, err)
	}
}

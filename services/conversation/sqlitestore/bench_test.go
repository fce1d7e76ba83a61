package sqlitestore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/conversation"
	"github.com/portico-dev/portico/services/conversation/conversationtest"
	"github.com/portico-dev/portico/services/conversation/sqlitestore"
)

// reportPercentiles reports the p50 and p99 of lat in microseconds.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds()), "p99-µs")
}

// words are the vocabulary of the benchmarks' messages.
var words = []string{"budget", "lisbon", "quarterly", "report", "model", "answer", "planning", "server", "museum", "invoice",
	"deploy", "review", "summary", "meeting", "travel", "contract", "schedule", "design", "metrics", "customer"}

func sentence(i int) string {
	return fmt.Sprintf("%s %s about the %s and the %s, item %d", words[i%len(words)], words[(i*7)%len(words)], words[(i*3)%len(words)], words[(i*11)%len(words)], i)
}

// fill gives alice n conversations of perConv messages each (alternating user and answer)
// and bob as many, directly through the store.
func fill(b *testing.B, s *sqlitestore.Store, n, perConv int) {
	b.Helper()
	ctx := context.Background()
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	k := 0
	for _, owner := range []string{"alice", "bob"} {
		for i := range n {
			at := base.Add(time.Duration(i) * time.Minute)
			id := conversationtest.Start(b, s, owner, sentence(k), sentence(k+1), at)
			k++
			_, msgs, err := s.Get(ctx, owner, id)
			if err != nil {
				b.Fatal(err)
			}
			parent := msgs[0].ID()
			for j := 1; j < perConv; j++ {
				role := inferencev1.Role_ROLE_ASSISTANT
				if j%2 == 0 {
					role = inferencev1.Role_ROLE_USER
				}
				m := conversationtest.Text(conversation.NewID(at), parent, role, sentence(k))
				k++
				if role == inferencev1.Role_ROLE_USER {
					_, err = s.AddTurn(ctx, conversation.Turn{Owner: owner, ConversationID: id, ParentID: parent, Message: m, Now: at})
				} else {
					err = s.AddAnswer(ctx, conversation.Answer{Owner: owner, ConversationID: id, Message: m, Now: at})
				}
				if err != nil {
					b.Fatal(err)
				}
				parent = m.ID()
			}
		}
	}
}

// BenchmarkList1000 lists the first page (50) of a person's 1,000 conversations.
func BenchmarkList1000(b *testing.B) {
	s := open(b)
	defer s.Close()
	fill(b, s, 1000, 1)
	ctx := context.Background()
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		page, next, err := s.List(ctx, "alice", conversation.DefaultPageSize, "")
		lat = append(lat, time.Since(start))
		if err != nil || len(page) != conversation.DefaultPageSize || next == "" {
			b.Fatalf("List: %d, %v", len(page), err)
		}
	}
	reportPercentiles(b, lat)
}

// BenchmarkSearch10000 searches a person's 10,000 messages (500 conversations of 20, and as
// many of another person's) for two words, 20 results.
func BenchmarkSearch10000(b *testing.B) {
	s := open(b)
	defer s.Close()
	fill(b, s, 500, 20)
	ctx := context.Background()
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		hits, err := s.Search(ctx, "alice", []string{"lisb", "report"}, conversation.DefaultSearchSize)
		lat = append(lat, time.Since(start))
		if err != nil || len(hits) == 0 {
			b.Fatalf("Search: %d, %v", len(hits), err)
		}
	}
	reportPercentiles(b, lat)
}

// BenchmarkHistoryAndTurn is the store's part of a kept turn: read a conversation of 20
// messages, then store a user turn after its 20th message (replacing the previous one).
func BenchmarkHistoryAndTurn(b *testing.B) {
	s := open(b)
	defer s.Close()
	fill(b, s, 1, 20)
	ctx := context.Background()
	page, _, err := s.List(ctx, "alice", 1, "")
	if err != nil {
		b.Fatal(err)
	}
	id := page[0].ID
	_, msgs, err := s.Get(ctx, "alice", id)
	if err != nil || len(msgs) != 20 {
		b.Fatalf("%d messages, %v", len(msgs), err)
	}
	parent := msgs[19].ID()
	now := time.Now()
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, _, err := s.Get(ctx, "alice", id); err != nil {
			b.Fatal(err)
		}
		m := conversationtest.Text(conversation.NewID(now), parent, inferencev1.Role_ROLE_USER, "the new turn: summarise")
		if _, err := s.AddTurn(ctx, conversation.Turn{Owner: "alice", ConversationID: id, ParentID: parent, Message: m, Now: now}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

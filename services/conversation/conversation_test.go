package conversation_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	conversationv1 "github.com/portico-dev/portico/gen/go/portico/conversation/v1"
	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/conversation"
)

func TestTitleFrom(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 30)
	for _, tt := range []struct{ in, want string }{
		{"  Plan a\n trip  to Lisbon ", "Plan a trip to Lisbon"},
		{"", conversation.DefaultTitle},
		{" \t\n", conversation.DefaultTitle},
		{long, strings.TrimSpace(strings.Repeat("word ", 12)) + "…"},
		{strings.Repeat("x", 100), strings.Repeat("x", 59) + "…"},
	} {
		if got := conversation.TitleFrom(tt.in); got != tt.want {
			t.Errorf("TitleFrom(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	a, b := conversation.NewID(now), conversation.NewID(now.Add(time.Millisecond))
	if !conversation.ValidID(a) || !conversation.ValidID(b) || a >= b {
		t.Fatalf("ids %q %q", a, b)
	}
	for _, bad := range []string{"", "x", strings.Repeat("z", 26), strings.Repeat("A", 26), a + "0", "../../" + a[6:], a[:25] + "/"} {
		if conversation.ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestTerms(t *testing.T) {
	t.Parallel()
	got := conversation.Terms(`Lisbon "trip" OR lisbon* NEAR(x) -y 1 2 3 4 5 6 7`)
	want := []string{"lisbon", "trip", "or", "near", "x", "y", "1", "2"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Terms = %v, want %v", got, want)
	}
}

func TestMakeSnippetUTF16(t *testing.T) {
	t.Parallel()
	text := "Emoji 😀 first, then Lisbon and lisboa é café"
	s := conversation.MakeSnippet(text, []string{"lisb", "caf"})
	u := utf16.Encode([]rune(s.Text))
	var got []string
	for _, h := range s.Highlights {
		got = append(got, string(utf16.Decode(u[h[0]:h[1]])))
	}
	if strings.Join(got, ",") != "Lisbon,lisboa,café" {
		t.Fatalf("highlights %v in %q", got, s.Text)
	}
	long := strings.Repeat("filler ", 60) + "needle " + strings.Repeat("after ", 60)
	s = conversation.MakeSnippet(long, []string{"needle"})
	u = utf16.Encode([]rune(s.Text))
	if !strings.HasPrefix(s.Text, "…") || !strings.HasSuffix(s.Text, "…") || len(s.Highlights) != 1 ||
		string(utf16.Decode(u[s.Highlights[0][0]:s.Highlights[0][1]])) != "needle" || len([]rune(s.Text)) > 170 {
		t.Fatalf("long snippet %q %v", s.Text, s.Highlights)
	}
}

func msg(role inferencev1.Role, text string) *inferencev1.Message {
	return &inferencev1.Message{Role: role, Content: []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: text}}}}
}

func TestFitDropsOldestPairs(t *testing.T) {
	t.Parallel()
	var history []*inferencev1.Message
	for range 10 {
		history = append(history, msg(inferencev1.Role_ROLE_USER, strings.Repeat("u", 300)), msg(inferencev1.Role_ROLE_ASSISTANT, strings.Repeat("a", 300)))
	}
	turn := msg(inferencev1.Role_ROLE_USER, "now")
	all, dropped := conversation.Fit("", history, turn, conversation.Window{})
	if len(all) != 21 || dropped != 0 {
		t.Fatalf("no window: %d, %d", len(all), dropped)
	}
	// Each message is 4 + 100 tokens; 5 of them and the turn fit 540 tokens.
	got, dropped := conversation.Fit("", history, turn, conversation.Window{InputTokens: 540})
	if dropped != 16 || len(got) != 5 || got[0].GetRole() != inferencev1.Role_ROLE_USER || got[4] != turn {
		t.Fatalf("window 540: %d kept, %d dropped", len(got), dropped)
	}
	got, dropped = conversation.Fit("", history, turn, conversation.Window{MaxTurns: 3})
	if dropped != 18 || len(got) != 3 {
		t.Fatalf("3 turns: %d kept, %d dropped", len(got), dropped)
	}
	got, _ = conversation.Fit("", history, turn, conversation.Window{InputTokens: 1})
	if len(got) != 1 || got[0] != turn {
		t.Fatalf("the turn alone is kept: %d", len(got))
	}
}

func TestHistorySkipsAnswersWithoutText(t *testing.T) {
	t.Parallel()
	m := func(role inferencev1.Role, text string) conversation.Message {
		b := &conversationv1.ConversationMessage{Role: role}
		if text != "" {
			b.Content = []*inferencev1.ContentBlock{{Block: &inferencev1.ContentBlock_Text{Text: text}}}
		}
		return conversation.Message{Body: b}
	}
	u, a := inferencev1.Role_ROLE_USER, inferencev1.Role_ROLE_ASSISTANT
	got, _ := conversation.History([]conversation.Message{m(u, "one"), m(a, "ok"), m(u, "two"), m(a, ""), m(u, "three"), m(a, "partial")})
	if len(got) != 4 || got[0].GetContent()[0].GetText() != "one" || got[2].GetContent()[0].GetText() != "three" || got[3].GetContent()[0].GetText() != "partial" {
		t.Fatalf("history %v", got)
	}
}

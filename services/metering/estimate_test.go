package metering_test

import (
	"strings"
	"testing"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	"github.com/portico-dev/portico/services/metering"
)

func TestEstimateConverse(t *testing.T) {
	t.Parallel()
	msg := func(role inferencev1.Role, blocks ...*inferencev1.ContentBlock) *inferencev1.Message {
		return &inferencev1.Message{Role: role, Content: blocks}
	}
	txt := func(s string) *inferencev1.ContentBlock {
		return &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Text{Text: s}}
	}
	img := &inferencev1.ContentBlock{Block: &inferencev1.ContentBlock_Image{Image: &inferencev1.Image{Data: []byte("x")}}}
	tests := []struct {
		name   string
		system string
		msgs   []*inferencev1.Message
		want   int64
	}{
		{"empty", "", nil, 0},
		{"one short turn", "", []*inferencev1.Message{msg(inferencev1.Role_ROLE_USER, txt("hello there"))}, 4 + 4},
		{"system prompt counts", "abcdef", []*inferencev1.Message{msg(inferencev1.Role_ROLE_USER, txt("abc"))}, 4 + 3},
		{"image", "", []*inferencev1.Message{msg(inferencev1.Role_ROLE_USER, img, txt("a"))}, 4 + metering.TokensPerImage + 1},
		{"multibyte text by bytes", "", []*inferencev1.Message{msg(inferencev1.Role_ROLE_USER, txt("日本語"))}, 4 + 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := metering.EstimateConverse(tt.system, tt.msgs); got != tt.want {
				t.Errorf("estimate = %d, want %d", got, tt.want)
			}
		})
	}
	// Conservative: above the usual 4-bytes-per-token rule on English prose.
	prose := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 100)
	if got, usual := metering.EstimateConverse("", []*inferencev1.Message{msg(inferencev1.Role_ROLE_USER, txt(prose))}), int64(len(prose)/4); got <= usual {
		t.Errorf("estimate %d is not above %d", got, usual)
	}
}

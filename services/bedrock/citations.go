package bedrock

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
)

// MaxExcerptChars bounds the excerpt of a citation passed on.
const MaxExcerptChars = 1000

// citer numbers the citations a model makes of its documents (Converse with
// CitationsConfig): each distinct source once, from 1, and the markers ("[1]") to append to
// the text each cited content block ends with.
type citer struct {
	list    []*inferencev1.Citation
	byKey   map[string]int32
	pending map[int32][]int32 // content block index -> numbers cited in it
}

func newCiter() *citer {
	return &citer{byKey: map[string]int32{}, pending: map[int32][]int32{}}
}

// add records a citation made in content block block and returns its number.
func (c *citer) add(block int32, title, location, excerpt string) int32 {
	excerpt = truncateRunes(excerpt, MaxExcerptChars)
	key := title + "\x00" + location + "\x00" + excerpt
	n, ok := c.byKey[key]
	if !ok {
		n = int32(len(c.list) + 1) //nolint:gosec // G115: a handful of citations
		c.byKey[key] = n
		c.list = append(c.list, &inferencev1.Citation{Number: n, Title: title, Location: location, Excerpt: excerpt})
	}
	for _, p := range c.pending[block] {
		if p == n {
			return n
		}
	}
	c.pending[block] = append(c.pending[block], n)
	return n
}

// markers returns the markers of the citations made in block (" [1][2]"), once.
func (c *citer) markers(block int32) string {
	ns := c.pending[block]
	delete(c.pending, block)
	if len(ns) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte(' ')
	for _, n := range ns {
		b.WriteString("[" + strconv.Itoa(int(n)) + "]")
	}
	return b.String()
}

// citations returns the numbered sources, nil when there were none.
func (c *citer) citations() []*inferencev1.Citation { return c.list }

// citationLocation describes where in its document a citation points.
func citationLocation(l types.CitationLocation) string {
	switch v := l.(type) {
	case *types.CitationLocationMemberDocumentPage:
		return pageRange("page", v.Value.Start, v.Value.End)
	case *types.CitationLocationMemberDocumentChar:
		return pageRange("characters", v.Value.Start, v.Value.End)
	case *types.CitationLocationMemberDocumentChunk:
		return pageRange("chunk", v.Value.Start, v.Value.End)
	case *types.CitationLocationMemberWeb:
		return aws.ToString(v.Value.Url)
	}
	return ""
}

func pageRange(unit string, start, end *int32) string {
	switch {
	case start == nil:
		return ""
	case end == nil || *end <= *start+1:
		return fmt.Sprintf("%s %d", unit, *start)
	}
	return fmt.Sprintf("%s %d-%d", unit, *start, *end-1)
}

// addCitation records a whole citation (Converse's answer).
func (c *citer) addCitation(block int32, ct types.Citation) int32 {
	var excerpt strings.Builder
	for _, sc := range ct.SourceContent {
		if t, ok := sc.(*types.CitationSourceContentMemberText); ok {
			excerpt.WriteString(t.Value)
		}
	}
	return c.add(block, aws.ToString(ct.Title), citationLocation(ct.Location), excerpt.String())
}

// addDelta records a citation of a stream (ConverseStream's citation delta).
func (c *citer) addDelta(block int32, d types.CitationsDelta) int32 {
	var excerpt strings.Builder
	for _, sc := range d.SourceContent {
		excerpt.WriteString(aws.ToString(sc.Text))
	}
	return c.add(block, aws.ToString(d.Title), citationLocation(d.Location), excerpt.String())
}

// citationsText returns the text of a citations content block of Converse's answer, with
// its markers.
func (c *citer) citationsText(block int32, cb types.CitationsContentBlock) string {
	var b strings.Builder
	for _, g := range cb.Content {
		if t, ok := g.(*types.CitationGeneratedContentMemberText); ok {
			b.WriteString(t.Value)
		}
	}
	for _, ct := range cb.Citations {
		c.addCitation(block, ct)
	}
	b.WriteString(c.markers(block))
	return b.String()
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

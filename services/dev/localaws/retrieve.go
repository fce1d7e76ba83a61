package localaws

import (
	"embed"
	"encoding/json"
	"io/fs"
	"math"
	"net/http"
	"path"
	"slices"
	"strings"
	"unicode"
)

// The development stand-in for Amazon Bedrock Knowledge Bases: Retrieve (bedrock-agent-runtime,
// POST /knowledgebases/{knowledgeBaseId}/retrieve, REST-JSON, signed for the "bedrock"
// service) over a small corpus of Markdown documents, ranked by BM25 over paragraphs. It is
// lexical ranking, not a vector store: honest about what matched, and labelled as a stand-in
// in every answer's metadata and in the documents' URLs.

//go:embed corpus/*.md
var handbookFS embed.FS

// HandbookID is the id of the development knowledge base, the Portico handbook.
const HandbookID = "PORTICOHB1"

// KnowledgeBase is a knowledge base the server retrieves from.
type KnowledgeBase struct {
	// ID is the knowledge base id.
	ID string
	// Documents holds its Markdown documents (*.md at the root).
	Documents fs.FS
}

// DefaultKnowledgeBases are the development knowledge bases: the Portico handbook.
var DefaultKnowledgeBases = []KnowledgeBase{{ID: HandbookID, Documents: mustSub(handbookFS, "corpus")}}

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}

// chunk is one retrievable paragraph of a document.
type chunk struct {
	doc   string // file name
	text  string
	terms map[string]int
	len   int
}

// index is a BM25 index over the chunks of one knowledge base.
type index struct {
	docs   map[string]string // file name -> text
	chunks []chunk
	df     map[string]int
	avgLen float64
}

// BM25 parameters (the usual defaults).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

func terms(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func newIndex(f fs.FS) (*index, error) {
	ix := &index{docs: map[string]string{}, df: map[string]int{}}
	names, err := fs.Glob(f, "*.md")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	total := 0
	for _, name := range names {
		b, err := fs.ReadFile(f, name)
		if err != nil {
			return nil, err
		}
		ix.docs[name] = string(b)
		for _, para := range strings.Split(string(b), "\n\n") {
			para = strings.TrimSpace(para)
			if para == "" || strings.HasPrefix(para, "#") && !strings.Contains(para, "\n") {
				continue // a heading alone
			}
			c := chunk{doc: name, text: para, terms: map[string]int{}}
			for _, t := range terms(para) {
				c.terms[t]++
				c.len++
			}
			for t := range c.terms {
				ix.df[t]++
			}
			total += c.len
			ix.chunks = append(ix.chunks, c)
		}
	}
	if len(ix.chunks) > 0 {
		ix.avgLen = float64(total) / float64(len(ix.chunks))
	}
	return ix, nil
}

type scored struct {
	c     *chunk
	score float64
}

// search returns up to n chunks with a positive BM25 score for query, best first.
func (ix *index) search(query string, n int) []scored {
	qs := terms(query)
	N := float64(len(ix.chunks))
	var out []scored
	for i := range ix.chunks {
		c := &ix.chunks[i]
		s := 0.0
		for _, q := range qs {
			tf := float64(c.terms[q])
			if tf == 0 {
				continue
			}
			df := float64(ix.df[q])
			idf := math.Log(1 + (N-df+0.5)/(df+0.5))
			s += idf * tf * (bm25K1 + 1) / (tf + bm25K1*(1-bm25B+bm25B*float64(c.len)/ix.avgLen))
		}
		if s > 0 {
			out = append(out, scored{c, s})
		}
	}
	slices.SortStableFunc(out, func(a, b scored) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	return out[:min(n, len(out))]
}

// retrieveInput is the body of Retrieve (the parts the server understands).
type retrieveInput struct {
	RetrievalQuery *struct {
		Text *string `json:"text"`
	} `json:"retrievalQuery"`
	RetrievalConfiguration *struct {
		VectorSearchConfiguration *struct {
			NumberOfResults *int `json:"numberOfResults"`
		} `json:"vectorSearchConfiguration"`
	} `json:"retrievalConfiguration"`
	NextToken *string `json:"nextToken"`
}

// documentPath is where the server serves a knowledge base's document, unsigned (a
// development convenience: the citations link to it).
func documentPath(kb, name string) string {
	return "/_portico/knowledgebases/" + kb + "/documents/" + name
}

func (s *Server) handleRetrieve(w http.ResponseWriter, r *http.Request) {
	s.stats.Requests.Add(1)
	requestID := newRequestID()
	body, aerr := s.readSigned(w, r, "bedrock")
	if aerr != nil {
		aerr.write(w, requestID)
		return
	}
	id := r.PathValue("knowledgeBaseId")
	var in retrieveInput
	if err := json.Unmarshal(body, &in); err != nil || in.RetrievalQuery == nil || in.RetrievalQuery.Text == nil {
		validationErr("1 validation error detected: Value null at 'retrievalQuery' failed to satisfy constraint: Member must not be null").write(w, requestID)
		return
	}
	query := *in.RetrievalQuery.Text
	if f, ok := s.faultFor(id, query); ok {
		if fe := retrieveFaultError(f, id); fe != nil {
			fe.write(w, requestID)
			return
		}
		if !beforeAnswer(r.Context(), f) {
			return
		}
	}
	ix, ok := s.kbs[id]
	if !ok {
		newAWSError(http.StatusNotFound, "ResourceNotFoundException", "Knowledge base with id "+id+" does not exist").write(w, requestID)
		return
	}
	if strings.TrimSpace(query) == "" || len(query) > 20000 {
		validationErr("The retrieval query text must have 1 to 20000 characters.").write(w, requestID)
		return
	}
	n := 5
	if rc := in.RetrievalConfiguration; rc != nil && rc.VectorSearchConfiguration != nil && rc.VectorSearchConfiguration.NumberOfResults != nil {
		n = *rc.VectorSearchConfiguration.NumberOfResults
		if n < 1 || n > 100 {
			validationErr("The value at retrievalConfiguration.vectorSearchConfiguration.numberOfResults must be between 1 and 100.").write(w, requestID)
			return
		}
	}
	results := []map[string]any{}
	for _, sc := range ix.search(query, n) {
		results = append(results, map[string]any{
			"content": map[string]any{"type": "TEXT", "text": sc.c.text},
			"location": map[string]any{"type": "WEB", "webLocation": map[string]any{
				"url": "http://" + r.Host + documentPath(id, sc.c.doc),
			}},
			"score": sc.score,
			"metadata": map[string]any{
				"x-amz-bedrock-kb-source-uri": "http://" + r.Host + documentPath(id, sc.c.doc),
				"x-portico-stand-in":          "local development stand-in for Bedrock Knowledge Bases (BM25 over paragraphs)",
			},
		})
	}
	b, _ := json.Marshal(map[string]any{"retrievalResults": results})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Requestid", requestID)
	_, _ = w.Write(b)
}

// handleDocument serves a knowledge base's document as text (GET, unsigned, development).
func (s *Server) handleDocument(w http.ResponseWriter, r *http.Request) {
	ix, ok := s.kbs[r.PathValue("knowledgeBaseId")]
	name := path.Base(r.PathValue("name"))
	text, found := "", false
	if ok {
		text, found = ix.docs[name]
	}
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte("<!-- Portico local development stand-in: a document of the " + r.PathValue("knowledgeBaseId") + " knowledge base. -->\n" + text))
}

// retrieveFaultError is the error a fault answers on Retrieve, or nil for faults that do not
// answer with an error.
func retrieveFaultError(f Fault, id string) *awsError {
	switch f.Fault {
	case FaultThrottle:
		return newAWSError(http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded")
	case FaultAccessDenied:
		return newAWSError(http.StatusForbidden, "AccessDeniedException", "User is not authorized to perform: bedrock:Retrieve on resource: knowledge-base/"+id)
	case FaultValidation:
		return validationErr("Injected validation fault.")
	case FaultQuota:
		return newAWSError(http.StatusBadRequest, "ServiceQuotaExceededException", "The request exceeds the service quota for your account.")
	case FaultInternal:
		return newAWSError(http.StatusInternalServerError, "InternalServerException", "The server encountered an internal error.")
	case FaultUnavailable, FaultNotReady, FaultModelError, FaultTimeout:
		return newAWSError(http.StatusFailedDependency, "DependencyFailedException", "The knowledge base's vector store could not be reached.")
	case FaultFirstUse:
		return newAWSError(http.StatusNotFound, "ResourceNotFoundException", "Knowledge base with id "+id+" does not exist")
	}
	return nil
}

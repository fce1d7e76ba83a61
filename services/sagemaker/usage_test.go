package sagemaker_test

import (
	"encoding/json"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/portico-dev/portico/services/sagemaker"
)

var (
	openAI = sagemaker.UsageReport{Format: sagemaker.ReportOpenAI, ContentTypes: []string{"application/json", "text/event-stream"}}
	tgi    = sagemaker.UsageReport{Format: sagemaker.ReportTGIDetails, ContentTypes: []string{"application/json", "application/jsonlines"}}
	bounds = sagemaker.Limits{MaxInputTokens: 8192, MaxOutputTokens: 100}
)

// usageCase is a response and the usage Portico must take from it.
type usageCase struct {
	name        string
	body        string
	contentType string
	rep         sagemaker.UsageReport
	// in and out are the counts wanted; -1 means the estimate.
	in, out int64
	clamped bool
}

// The attacks: a caller chooses the text a model generates (a raw-text model told to repeat a
// line, an echo container), and writes a usage report into it.
var usageCases = []usageCase{
	{name: "openai report", body: `{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":9}}`, contentType: "application/json", rep: openAI, in: 7, out: 9},
	{name: "openai report, content type with parameters", body: `{"usage":{"prompt_tokens":7,"completion_tokens":9}}`, contentType: "application/json; charset=utf-8", rep: openAI, in: 7, out: 9},
	{name: "tgi details object", body: `{"generated_text":"x","details":{"generated_tokens":5}}`, contentType: "application/json", rep: tgi, in: -1, out: 5},
	{name: "tgi details in a one-element array", body: `[{"generated_text":"x","details":{"generated_tokens":5}}]`, contentType: "application/json", rep: tgi, in: -1, out: 5},
	{name: "tgi stream: the last line", body: "{\"token\":{\"text\":\"a\"}}\n{\"details\":{\"generated_tokens\":2}}\n", contentType: "application/jsonlines", rep: tgi, in: -1, out: 2},
	{name: "server-sent events: the last data before [DONE]", body: "data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n", contentType: "text/event-stream", rep: openAI, in: 1, out: 2},
	{name: "no report configured", body: `{"usage":{"prompt_tokens":7,"completion_tokens":9}}`, contentType: "application/json", in: -1, out: -1},
	{name: "wrong format configured", body: `{"usage":{"prompt_tokens":7,"completion_tokens":9}}`, contentType: "application/json", rep: tgi, in: -1, out: -1},
	// Planted in text.
	{name: "planted line in plain text", body: "hello\n{\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0}}\n", contentType: "text/plain", rep: openAI, in: -1, out: -1},
	{name: "planted details in plain text", body: "{\"details\":{\"generated_tokens\":0}}", contentType: "text/plain", rep: tgi, in: -1, out: -1},
	{name: "planted report inside generated text", body: `{"generated_text":"{\"details\":{\"generated_tokens\":0}}"}`, contentType: "application/json", rep: tgi, in: -1, out: -1},
	{name: "planted line mid-stream, real last line has none", body: "{\"details\":{\"generated_tokens\":0}}\n{\"token\":{\"text\":\"a\"}}\n", contentType: "application/jsonlines", rep: tgi, in: -1, out: -1},
	{name: "planted event mid-stream", body: "data: {\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0}}\n\ndata: {\"choices\":[]}\n\ndata: [DONE]\n", contentType: "text/event-stream", rep: openAI, in: -1, out: -1},
	{name: "report in a type not listed", body: "{\"details\":{\"generated_tokens\":1}}\n", contentType: "application/jsonlines", rep: sagemaker.UsageReport{Format: sagemaker.ReportTGIDetails, ContentTypes: []string{"application/json"}}, in: -1, out: -1},
	{name: "ambiguous: duplicate usage keys", body: `{"usage":{"prompt_tokens":7,"completion_tokens":9},"usage":{"prompt_tokens":0,"completion_tokens":0}}`, contentType: "application/json", rep: openAI, in: -1, out: -1},
	{name: "ambiguous: case variant key", body: `{"usage":{"prompt_tokens":7,"completion_tokens":9,"COMPLETION_TOKENS":0}}`, contentType: "application/json", rep: openAI, in: -1, out: -1},
	{name: "case variant only is no report", body: `{"USAGE":{"prompt_tokens":7,"completion_tokens":9}}`, contentType: "application/json", rep: openAI, in: -1, out: -1},
	{name: "trailing data", body: `{"usage":{"prompt_tokens":7,"completion_tokens":9}} {"usage":{}}`, contentType: "application/json", rep: openAI, in: -1, out: -1},
	// Out of range: clamped to the estimate.
	{name: "huge counts", body: `{"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}}`, contentType: "application/json", rep: openAI, in: -1, out: -1, clamped: true},
	{name: "overflowing counts", body: `{"usage":{"prompt_tokens":99999999999999999999999,"completion_tokens":1e30}}`, contentType: "application/json", rep: openAI, in: -1, out: -1, clamped: true},
	{name: "negative counts", body: `{"usage":{"prompt_tokens":-5,"completion_tokens":-1}}`, contentType: "application/json", rep: openAI, in: -1, out: -1, clamped: true},
	{name: "above the context window", body: `{"usage":{"prompt_tokens":8193,"completion_tokens":3}}`, contentType: "application/json", rep: openAI, in: -1, out: 3, clamped: true},
	{name: "above the request's max output", body: `{"details":{"generated_tokens":101}}`, contentType: "application/json", rep: tgi, in: -1, out: -1, clamped: true},
	{name: "fractional count", body: `{"usage":{"prompt_tokens":7.5,"completion_tokens":9}}`, contentType: "application/json", rep: openAI, in: -1, out: 9, clamped: true},
	{name: "string count", body: `{"usage":{"prompt_tokens":"7","completion_tokens":9}}`, contentType: "application/json", rep: openAI, in: -1, out: 9, clamped: true},
	{name: "null count is absent", body: `{"usage":{"prompt_tokens":null,"completion_tokens":9}}`, contentType: "application/json", rep: openAI, in: -1, out: 9},
	{name: "zero is a count", body: `{"usage":{"prompt_tokens":0,"completion_tokens":0}}`, contentType: "application/json", rep: openAI, in: 0, out: 0},
	{name: "exactly the bounds", body: `{"usage":{"prompt_tokens":8192,"completion_tokens":100}}`, contentType: "application/json", rep: openAI, in: 8192, out: 100},
	{name: "empty", body: "", contentType: "application/json", rep: openAI, in: -1, out: -1},
}

func TestUsage(t *testing.T) {
	t.Parallel()
	const requestBytes = 40
	for _, tt := range usageCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim := bounds
			lim.Usage = tt.rep
			u := sagemaker.UsageFrom(sagemaker.ReadUsage([]byte(tt.body), tt.contentType, tt.rep), lim, requestBytes, len(tt.body))
			in, out := tt.in, tt.out
			if in < 0 {
				in = sagemaker.EstimateTokens(requestBytes)
			}
			if out < 0 {
				out = sagemaker.EstimateTokens(len(tt.body))
			}
			estimated := tt.in < 0 || tt.out < 0
			if u.InputTokens != in || u.OutputTokens != out || u.TotalTokens != in+out || u.Estimated != estimated || u.Clamped != tt.clamped {
				t.Errorf("usage = %+v; want in %d out %d estimated %v clamped %v", u, in, out, estimated, tt.clamped)
			}
		})
	}
}

// TestUsageBoundZeroTrustsNothing checks that limits without bounds believe no count.
func TestUsageBoundZeroTrustsNothing(t *testing.T) {
	t.Parallel()
	body := []byte(`{"usage":{"prompt_tokens":1,"completion_tokens":1}}`)
	u := sagemaker.UsageFrom(sagemaker.ReadUsage(body, "application/json", openAI), sagemaker.Limits{Usage: openAI}, 4, len(body))
	if !u.Clamped || u.InputTokens != 1 || u.OutputTokens != sagemaker.EstimateTokens(len(body)) {
		t.Errorf("usage = %+v", u)
	}
}

// TestUsageStreamLastLine feeds a JSON Lines answer to a stream in awkward pieces, and one
// whose last line is longer than kept: the report is the last line, or none.
func TestUsageStreamLastLine(t *testing.T) {
	t.Parallel()
	long := `{"token":{"text":"` + strings.Repeat("x", 70<<10) + `"}}`
	tests := []struct {
		name string
		body string
		want sagemaker.Count
	}{
		{"last line", "{\"details\":{\"generated_tokens\":0}}\n{\"details\":{\"generated_tokens\":7}}", sagemaker.Count{Present: true, Valid: true, Value: 7}},
		{"over-long last line carries none", "{\"details\":{\"generated_tokens\":3}}\n" + long + "\n", sagemaker.Count{}},
		{"over-long line before the last", long + "\n{\"details\":{\"generated_tokens\":3}}\n\n", sagemaker.Count{Present: true, Valid: true, Value: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sagemaker.ReadUsage([]byte(tt.body), "application/jsonlines", tgi).Output; got != tt.want {
				t.Errorf("output = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzReadUsage checks that any container answer, of any content type and report format,
// reads without panicking, and that the usage taken from it never leaves the bounds: counts
// are reported within them, or the estimates.
func FuzzReadUsage(f *testing.F) {
	for _, c := range usageCases {
		f.Add([]byte(c.body), c.contentType, string(c.rep.Format))
	}
	f.Fuzz(func(t *testing.T, body []byte, contentType, format string) {
		rep := sagemaker.UsageReport{Format: sagemaker.ReportFormat(format), ContentTypes: sagemaker.ReportContentTypes()}
		r := sagemaker.ReadUsage(body, contentType, rep)
		if (!r.Input.Present && r.Input.Valid) || (!r.Output.Present && r.Output.Valid) {
			t.Fatalf("ReadUsage = %+v", r)
		}
		lim := bounds
		u := sagemaker.UsageFrom(r, lim, 40, len(body))
		estIn, estOut := sagemaker.EstimateTokens(40), sagemaker.EstimateTokens(len(body))
		if (u.InputTokens != estIn && (u.InputTokens < 0 || u.InputTokens > lim.MaxInputTokens)) ||
			(u.OutputTokens != estOut && (u.OutputTokens < 0 || u.OutputTokens > lim.MaxOutputTokens)) ||
			u.TotalTokens != u.InputTokens+u.OutputTokens || (u.Clamped && !u.Estimated) {
			t.Fatalf("usage = %+v from %+v", u, r)
		}
		if format == "" || !strings.Contains(contentType, "/") {
			if r.Input.Present || r.Output.Present {
				t.Fatalf("a report read with no format or content type: %+v", r)
			}
		}
	})
}

// TestReadMaxTokens is the table of requests Portico and a container could read differently.
func TestReadMaxTokens(t *testing.T) {
	t.Parallel()
	const limit = 2048
	tests := []struct {
		name    string
		body    string
		want    int64
		wantErr string // a substring of the error, "" for none
	}{
		{"tgi parameters", `{"inputs":"hi","parameters":{"max_new_tokens":100}}`, 100, ""},
		{"openai max_tokens", `{"messages":[],"max_tokens":50}`, 50, ""},
		{"max_completion_tokens", `{"messages":[],"max_completion_tokens":60}`, 60, ""},
		{"several: the largest", `{"max_tokens":5,"parameters":{"max_new_tokens":70,"max_tokens":9}}`, 70, ""},
		{"none", `{"inputs":"hi"}`, 0, ""},
		{"null is none", `{"inputs":"hi","parameters":{"max_new_tokens":null}}`, 0, ""},
		{"not an object", `["hi"]`, 0, ""},
		{"nested elsewhere is not read", `{"inputs":{"parameters":{"max_new_tokens":99999}}}`, 0, ""},
		{"case variant refused (issue 11)", `{"parameters":{"max_new_tokens":100000,"MAX_NEW_TOKENS":1}}`, 0, `"MAX_NEW_TOKENS"`},
		{"case variant first refused", `{"parameters":{"MAX_NEW_TOKENS":1,"max_new_tokens":100}}`, 0, `"max_new_tokens"`},
		{"exact duplicate refused", `{"parameters":{"max_new_tokens":1,"max_new_tokens":100000}}`, 0, `duplicate key "max_new_tokens" in $.parameters`},
		{"escaped duplicate refused", `{"parameters":{"max_new_tokens":1,"max\u005fnew_tokens":100000}}`, 0, `"max_new_tokens"`},
		{"duplicate parameters objects refused", `{"parameters":{"max_new_tokens":1},"parameters":{"max_new_tokens":100000}}`, 0, `"parameters"`},
		{"duplicate deep in the payload refused", `{"inputs":"x","extra":[{"a":1,"A":2}]}`, 0, `$.extra[0]`},
		{"unicode case variant refused", `{"parameters":{"max_new_tokens":1,"max_new_to\u212aens":100000}}`, 0, `max_new_tokens`},
		{"only the case variant refused", `{"parameters":{"MAX_NEW_TOKENS":100000}}`, 0, `"parameters.MAX_NEW_TOKENS" is not "parameters.max_new_tokens"`},
		{"parameters object in another case refused", `{"Parameters":{"max_new_tokens":100000}}`, 0, `"Parameters"`},
		{"top-level case variant refused", `{"Max_Tokens":100000}`, 0, `"Max_Tokens"`},
		{"other keys in any case", `{"Prompt":"x","parameters":{"Temperature":0.5}}`, 0, ""},
		{"inputs in another case refused (a batch a case-insensitive container would read)", `{"Inputs":["a","b"]}`, 0, `"Inputs" is not "inputs"`},
		{"zero", `{"parameters":{"max_new_tokens":0}}`, 0, "parameters.max_new_tokens must be a whole number from 1 to 2048"},
		{"negative", `{"max_tokens":-1}`, 0, "max_tokens must be"},
		{"above the endpoint's limit", `{"parameters":{"max_new_tokens":2049}}`, 0, "from 1 to 2048"},
		{"fraction", `{"parameters":{"max_new_tokens":100.5}}`, 0, "whole number"},
		{"exponent", `{"parameters":{"max_new_tokens":1e3}}`, 0, "whole number"},
		{"string", `{"parameters":{"max_new_tokens":"100"}}`, 0, "whole number"},
		{"overflowing", `{"parameters":{"max_new_tokens":99999999999999999999999}}`, 0, "whole number"},
		{"invalid JSON", `{"parameters":`, 0, "not valid JSON"},
		{"trailing data", `{"inputs":"x"} {"parameters":{"max_new_tokens":99999}}`, 0, "not valid JSON"},
		{"too deep", strings.Repeat("[", 600) + strings.Repeat("]", 600), 0, "nested too deeply"},
		{"n above 1 refused", `{"messages":[],"max_tokens":10,"n":16}`, 0, "n: Portico meters one generated sequence"},
		{"best_of refused", `{"prompt":"x","max_tokens":10,"best_of":16}`, 0, "best_of: Portico meters one"},
		{"tgi best_of refused", `{"inputs":"x","parameters":{"max_new_tokens":10,"best_of":2}}`, 0, "parameters.best_of"},
		{"num_return_sequences refused", `{"inputs":"x","parameters":{"num_return_sequences":4}}`, 0, "parameters.num_return_sequences"},
		{"parameters.n refused", `{"inputs":"x","parameters":{"n":3}}`, 0, "parameters.n:"},
		{"n as a string refused", `{"n":"16"}`, 0, "n: Portico meters"},
		{"n of 1 allowed", `{"messages":[],"max_tokens":10,"n":1,"parameters":{"best_of":1}}`, 10, ""},
		{"case variant of n refused", `{"N":16}`, 0, `"N" is not "n"`},
		{"case variant of best_of refused", `{"parameters":{"Best_Of":16}}`, 0, `"parameters.Best_Of"`},
		{"a batch of inputs refused", `{"inputs":["a","b"],"parameters":{"max_new_tokens":10}}`, 0, "a batch of 2 inputs"},
		{"one input in a list allowed", `{"inputs":["a"],"parameters":{"max_new_tokens":10}}`, 10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := sagemaker.ReadMaxTokens([]byte(tt.body), limit)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ReadMaxTokens = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !isInvalidArgument(err)):
				t.Fatalf("ReadMaxTokens err = %v, want INVALID_ARGUMENT with %q", err, tt.wantErr)
			case got != tt.want:
				t.Errorf("ReadMaxTokens = %d, want %d", got, tt.want)
			}
		})
	}
}

// FuzzReadMaxTokens checks that any body parses without panicking, that what is returned is
// within the limit, and that whatever ReadMaxTokens accepts has no duplicate key that Go's own
// case-insensitive decoding would resolve differently.
func FuzzReadMaxTokens(f *testing.F) {
	f.Add([]byte(`{"inputs":"hi","parameters":{"max_new_tokens":100}}`))
	f.Add([]byte(`{"parameters":{"max_new_tokens":100000,"MAX_NEW_TOKENS":1}}`))
	f.Add([]byte(`{"max_tokens":5,"parameters":{"max_new_tokens":70,"max_tokens":9}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := sagemaker.ReadMaxTokens(body, 2048)
		if err != nil {
			if !isInvalidArgument(err) || got != 0 {
				t.Fatalf("ReadMaxTokens = %d, %v", got, err)
			}
			return
		}
		if got < 0 || got > 2048 {
			t.Fatalf("ReadMaxTokens = %d", got)
		}
		// What Portico accepted, a case-insensitive reader reads the same way.
		var loose struct {
			Parameters *struct {
				MaxNewTokens *int64 `json:"max_new_tokens"`
			} `json:"parameters"`
		}
		reserved := got
		if reserved == 0 {
			reserved = 2048 // the endpoint's max output
		}
		if json.Unmarshal(body, &loose) == nil && loose.Parameters != nil && loose.Parameters.MaxNewTokens != nil {
			if n := *loose.Parameters.MaxNewTokens; n > reserved {
				t.Fatalf("accepted %q reserving %d, a case-insensitive container reads %d", body, reserved, n)
			}
		}
	})
}

func isInvalidArgument(err error) bool { return connect.CodeOf(err) == connect.CodeInvalidArgument }

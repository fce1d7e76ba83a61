package catalog

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	inferencev1 "github.com/portico-dev/portico/gen/go/portico/inference/v1"
	typev1 "github.com/portico-dev/portico/gen/go/portico/type/v1"
)

var devIDs = []string{
	"us.anthropic.claude-sonnet-4-20250514-v1:0",
	"anthropic.claude-3-5-haiku-20241022-v1:0",
	"amazon.nova-pro-v1:0",
	"amazon.nova-lite-v1:0",
	"amazon.titan-text-express-v1",
	"meta.llama3-1-70b-instruct-v1:0",
	"mistral.mistral-large-2407-v1:0",
	"ai21.jamba-1-5-mini-v1:0",
	"portico-demo-llm",
}

func TestDefaultHoldsTheDevModels(t *testing.T) {
	t.Parallel()
	c := Default()
	var got []string
	for _, m := range c.Models() {
		got = append(got, m.ID)
	}
	want := slices.Clone(devIDs)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("models = %v, want %v", got, want)
	}
	pt := c.PriceTable()
	if pt.Version == "" || pt.AsOf == "" || pt.Currency != "USD" || !strings.Contains(pt.Note, "Estimate") {
		t.Errorf("price table = %+v", pt)
	}
	ms := c.Models()
	if ms[len(ms)-1].Provider != ProviderSageMaker {
		t.Errorf("SageMaker endpoint should sort last, got %v", ms[len(ms)-1].ID)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	c := Default()
	tests := []struct {
		id                    string
		ok                    bool
		kind                  Kind
		images, system        bool
		contextWindow, maxOut int64
	}{
		{"us.anthropic.claude-sonnet-4-20250514-v1:0", true, KindInferenceProfile, true, true, 200000, 8192},
		{"anthropic.claude-3-5-haiku-20241022-v1:0", true, KindFoundationModel, false, true, 200000, 8192},
		{"amazon.nova-pro-v1:0", true, KindFoundationModel, true, true, 300000, 5120},
		{"amazon.nova-lite-v1:0", true, KindFoundationModel, true, true, 300000, 5120},
		{"amazon.titan-text-express-v1", true, KindFoundationModel, false, false, 8192, 8192},
		{"meta.llama3-1-70b-instruct-v1:0", true, KindFoundationModel, false, true, 128000, 2048},
		{"mistral.mistral-large-2407-v1:0", true, KindFoundationModel, false, true, 128000, 8192},
		{"ai21.jamba-1-5-mini-v1:0", true, KindFoundationModel, false, true, 256000, 4096},
		{"portico-demo-llm", true, KindEndpoint, false, false, 8192, 2048},
		{"anthropic.claude-sonnet-4-20250514-v1:0", false, "", false, false, 0, 0},
		{"", false, "", false, false, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			m, ok := c.Lookup(tt.id)
			if ok != tt.ok {
				t.Fatalf("Lookup ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if m.Kind != tt.kind || m.Capabilities.Images != tt.images || m.Capabilities.SystemPrompt != tt.system ||
				m.ContextWindow != tt.contextWindow || m.MaxOutputTokens != tt.maxOut || !m.Capabilities.Streaming {
				t.Errorf("model = %+v", m)
			}
			if m.Price.InputPer1k <= 0 || m.Price.OutputPer1k <= 0 {
				t.Errorf("price = %+v", m.Price)
			}
		})
	}
}

func TestLookupReturnsACopy(t *testing.T) {
	t.Parallel()
	c := Default()
	m, _ := c.Lookup("portico-demo-llm")
	m.ContentTypes[0] = "changed/by-caller"
	again, _ := c.Lookup("portico-demo-llm")
	if again.ContentTypes[0] != "application/json" {
		t.Fatalf("catalog was changed through a returned model: %v", again.ContentTypes)
	}
}

func TestCost(t *testing.T) {
	t.Parallel()
	c := Default()
	tests := []struct {
		name    string
		model   string
		in, out int64
		want    int64 // nanos
		wantErr error
	}{
		{"zero", "amazon.nova-lite-v1:0", 0, 0, 0, nil},
		// Sonnet 4: 0.003 and 0.015 USD per 1k: 1000 in + 1000 out = 0.018 USD.
		{"sonnet 1k+1k", "us.anthropic.claude-sonnet-4-20250514-v1:0", 1000, 1000, 18_000_000, nil},
		// Haiku 3.5: 1234 in, 567 out: (1234*800000 + 567*4000000)/1000 = 987200 + 2268000.
		{"haiku exact", "anthropic.claude-3-5-haiku-20241022-v1:0", 1234, 567, 3_255_200, nil},
		// Nova Lite: one input token is 60000/1000 = 60 nanos exactly.
		{"nova lite one token", "amazon.nova-lite-v1:0", 1, 0, 60, nil},
		// Llama: 720000/1000 per token = 720 nanos; 3 tokens 2160.
		{"llama", "meta.llama3-1-70b-instruct-v1:0", 2, 1, 2160, nil},
		// 1M input tokens of Mistral Large at 0.002/1k = 2 USD.
		{"mistral 1M", "mistral.mistral-large-2407-v1:0", 1_000_000, 0, 2 * NanosPerUnit, nil},
		{"unknown model", "nope", 1, 1, 0, ErrUnknownModel},
		{"negative", "amazon.nova-lite-v1:0", -1, 0, 0, ErrTokens},
		{"absurd", "amazon.nova-lite-v1:0", 1 << 50, 0, 0, ErrTokens},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.Cost(tt.model, tt.in, tt.out)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			n, err := Nanos(got)
			if err != nil || n != tt.want || got.GetCurrencyCode() != "USD" {
				t.Fatalf("cost = %v (%d nanos, %v), want %d nanos", got, n, err, tt.want)
			}
		})
	}
}

func TestCostRoundsUpOnceOnTheTotal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p       Price
		in, out int64
		want    int64
	}{
		{Price{InputPer1k: 1}, 1, 0, 1},                     // 0.001 nano → 1
		{Price{InputPer1k: 1}, 1000, 0, 1},                  // exactly 1
		{Price{InputPer1k: 1}, 1001, 0, 2},                  // 1.001 → 2
		{Price{InputPer1k: 1, OutputPer1k: 1}, 500, 500, 1}, // 0.5+0.5 = 1, not 1+1
		{Price{InputPer1k: 999, OutputPer1k: 1}, 1, 1, 1},
		{Price{InputPer1k: 1 << 62}, 1 << 40, 0, 0}, // overflows: error case below
	}
	for i, tt := range tests[:5] {
		got, err := tt.p.CostNanos(tt.in, tt.out)
		if err != nil || got != tt.want {
			t.Errorf("case %d: CostNanos = %d, %v; want %d", i, got, err, tt.want)
		}
	}
	if _, err := tests[5].p.CostNanos(tests[5].in, 0); !errors.Is(err, ErrTokens) {
		t.Errorf("overflow: err = %v, want ErrTokens", err)
	}
	for _, p := range []Price{{InputPer1k: -1}, {OutputPer1k: -1000}} {
		if got, err := p.CostNanos(1000, 1000); !errors.Is(err, ErrTokens) {
			t.Errorf("negative price %+v: CostNanos = %d, %v; want ErrTokens", p, got, err)
		}
	}
}

func TestMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		nanos int64
		text  string
	}{
		{0, "0.00 USD"},
		{4_500_000, "0.0045 USD"},
		{12_500_000_000, "12.50 USD"},
		{-1, "-0.000000001 USD"},
		{-1_250_000_000, "-1.25 USD"},
		{1, "0.000000001 USD"},
	}
	for _, tt := range tests {
		m := USD(tt.nanos)
		if got := FormatMoney(m); got != tt.text {
			t.Errorf("FormatMoney(%d) = %q, want %q", tt.nanos, got, tt.text)
		}
		if n, err := Nanos(m); err != nil || n != tt.nanos {
			t.Errorf("Nanos(USD(%d)) = %d, %v", tt.nanos, n, err)
		}
		if (m.Units < 0 && m.Nanos > 0) || (m.Units > 0 && m.Nanos < 0) {
			t.Errorf("USD(%d) = %v has mixed signs", tt.nanos, m)
		}
	}
	sum, err := AddMoney(USD(999_999_999), USD(1), nil, USD(-250_000_000))
	if err != nil || sum.Units != 0 || sum.Nanos != 750_000_000 {
		t.Errorf("AddMoney = %v, %v", sum, err)
	}
	bad := []*typev1.Money{
		{CurrencyCode: "EUR", Units: 1},
		{CurrencyCode: "USD", Units: 1, Nanos: -1},
		{CurrencyCode: "USD", Nanos: 1_000_000_000},
		{CurrencyCode: "USD", Units: 1 << 62},
	}
	for _, m := range bad {
		if _, err := Nanos(m); !errors.Is(err, ErrMoney) {
			t.Errorf("Nanos(%v) err = %v, want ErrMoney", m, err)
		}
		if FormatMoney(m) != "invalid" {
			t.Errorf("FormatMoney(%v) = %q", m, FormatMoney(m))
		}
	}
	if _, err := AddMoney(USD(1<<62), USD(1<<62)); !errors.Is(err, ErrMoney) {
		t.Errorf("AddMoney overflow err = %v", err)
	}
}

func TestParseNanos(t *testing.T) {
	t.Parallel()
	good := map[string]int64{"0.003": 3_000_000, "0.00006": 60_000, "1": NanosPerUnit, ".5": 500_000_000, "0.000000001": 1, "2.": 2 * NanosPerUnit}
	for s, want := range good {
		if got, err := ParseNanos(s); err != nil || got != want {
			t.Errorf("ParseNanos(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", ".", "-1", "+1", "0.0000000001", "1e-3", "abc", "0.00a", "0.-1", "99999999999"} {
		if _, err := ParseNanos(s); !errors.Is(err, ErrMoney) {
			t.Errorf("ParseNanos(%q) err = %v, want ErrMoney", s, err)
		}
	}
}

func TestProto(t *testing.T) {
	t.Parallel()
	m, _ := Default().Lookup("portico-demo-llm")
	p := m.Proto()
	if p.GetProvider() != inferencev1.Provider_PROVIDER_SAGEMAKER || p.GetId() != "portico-demo-llm" ||
		!slices.Equal(p.GetContentTypes(), []string{"application/json", "text/plain"}) ||
		p.GetPricing().GetOutputPer_1KTokens().GetNanos() != 400_000 || p.GetMaxOutputTokens() != 2048 {
		t.Errorf("proto = %v", p)
	}
	s, _ := Default().Lookup("us.anthropic.claude-sonnet-4-20250514-v1:0")
	ps := s.Proto()
	if ps.GetProvider() != inferencev1.Provider_PROVIDER_BEDROCK || !ps.GetCapabilities().GetImages() ||
		ps.GetCapabilities().GetMaxImages() != 20 || ps.GetPricing().GetInputPer_1KTokens().GetNanos() != 3_000_000 {
		t.Errorf("proto = %v", ps)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	c, err := Load("")
	if err != nil || len(c.Models()) != len(devIDs) {
		t.Fatalf("Load default: %v", err)
	}
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	doc := strings.Replace(string(DefaultYAML()), `version: "2026-11-bedrock-us-east-1-v1"`, `version: "custom-7"`, 1)
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(path)
	if err != nil || c.PriceTable().Version != "custom-7" {
		t.Fatalf("Load file: %v, %+v", err, c)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file err = %v", err)
	}
}

const validModel = `priceTable: {version: v1, asOf: "2026-01-02", currency: USD}
models:
  - id: amazon.nova-lite-v1:0
    provider: bedrock
    kind: foundation-model
    family: Amazon Nova
    displayName: Nova Lite
    contextWindow: 300000
    maxOutputTokens: 5120
    price: {inputPer1k: "0.00006", outputPer1k: "0.00024", estimate: true}
`

func TestParseErrorsNameTheLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		old, new string
		line     int
		message  string
	}{
		{"valid", "", "", 0, ""},
		{"no estimate label", "estimate: true", "estimate: false", 10, "estimate"},
		{"bad price", `"0.00024"`, `"0.0000000001"`, 10, "9 decimals"},
		{"bad asOf", `"2026-01-02"`, `"Jan 2"`, 1, "asOf"},
		{"unknown provider", "provider: bedrock", "provider: openai", 4, "provider must be"},
		{"bad id", "id: amazon.nova-lite-v1:0", "id: Nova Lite!", 3, "not a Bedrock"},
		{"out over context", "maxOutputTokens: 5120", "maxOutputTokens: 500000", 9, "maxOutputTokens"},
		{"unknown field", "family: Amazon Nova", "famliy: Amazon Nova", 6, "famliy"},
		{"wrong type", "contextWindow: 300000", "contextWindow: lots", 8, ""},
		{"profile without regions", "kind: foundation-model", "kind: inference-profile", 3, "foundation model"},
		{"syntax", "    family: Amazon Nova", "   family: [Amazon Nova", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := validModel
			if tt.old != "" {
				if !strings.Contains(doc, tt.old) {
					t.Fatalf("test document lacks %q", tt.old)
				}
				doc = strings.Replace(doc, tt.old, tt.new, 1)
			}
			_, err := Parse("test.yaml", []byte(doc))
			if tt.old == "" {
				if err != nil {
					t.Fatalf("valid document: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			p := ve.Problems[0]
			if tt.line != 0 && p.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", p.Line, tt.line, err)
			}
			if p.Line == 0 && tt.name != "syntax" {
				t.Errorf("no line in %v", err)
			}
			if !strings.Contains(err.Error(), tt.message) || !strings.Contains(err.Error(), "test.yaml:") {
				t.Errorf("error %q should mention %q and the file", err, tt.message)
			}
		})
	}
}

func TestParseRejectsDuplicatesAndEmpty(t *testing.T) {
	t.Parallel()
	dup := validModel + strings.Join(strings.Split(validModel, "\n")[2:], "\n")
	if _, err := Parse("d.yaml", []byte(dup)); err == nil || !strings.Contains(err.Error(), "duplicate model id") {
		t.Errorf("duplicate: err = %v", err)
	}
	if _, err := Parse("e.yaml", []byte(`priceTable: {version: v1, asOf: "2026-01-02", currency: USD}`)); err == nil {
		t.Errorf("empty catalog accepted")
	}
}

func BenchmarkCost(b *testing.B) {
	c := Default()
	for b.Loop() {
		if _, err := c.Cost("anthropic.claude-3-5-haiku-20241022-v1:0", 1234, 567); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCostNanos(b *testing.B) {
	c := Default()
	for b.Loop() {
		if _, err := c.CostNanos("anthropic.claude-3-5-haiku-20241022-v1:0", 1234, 567); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFormatNanos(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{
		0: "0.00", 4_500_000: "0.0045", NanosPerUnit: "1.00", -4_500_000: "-0.0045", -3 * NanosPerUnit: "-3.00",
		1_234_567_890_123: "1234.567890123", math.MaxInt64: "9223372036.854775807", math.MinInt64: "-9223372036.854775808",
	} {
		if got := FormatNanos(n); got != want {
			t.Errorf("FormatNanos(%d) = %q, want %q", n, got, want)
		}
	}
}

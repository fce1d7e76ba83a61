package bedrock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/schemas"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/eventstream"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/restjson1"
)

// countingProtocol counts the messages its inner protocol decodes.
type countingProtocol struct {
	smithyhttp.ClientProtocol
	calls atomic.Int64
}

func (c *countingProtocol) DeserializeEventMessage(schema *smithy.Schema, types *smithy.TypeRegistry, r io.Reader) (smithy.Deserializable, error) {
	c.calls.Add(1)
	return c.ClientProtocol.DeserializeEventMessage(schema, types, r)
}

func sdkProtocol() smithyhttp.ClientProtocol {
	return restjson1.New(schemas.AmazonBedrockFrontendService)
}

// frame encodes one event-stream message.
func frame(t testing.TB, hdrs eventstream.Headers, payload string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := eventstream.NewEncoder().Encode(&b, eventstream.Message{Headers: hdrs, Payload: []byte(payload)}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func eventHeadersOf(eventType string) eventstream.Headers {
	return eventstream.Headers{
		{Name: ":event-type", Value: eventstream.StringValue(eventType)},
		{Name: ":content-type", Value: eventstream.StringValue("application/json")},
		{Name: ":message-type", Value: eventstream.StringValue("event")},
	}
}

// decodeAll decodes messages from stream until an error, returning the events and the error.
func decodeAll(p smithyhttp.ClientProtocol, stream []byte) ([]smithy.Deserializable, error) {
	r := bytes.NewReader(stream)
	var out []smithy.Deserializable
	for {
		ev, err := p.DeserializeEventMessage(schemas.ConverseStreamOutput, bedrockruntime.TypeRegistry, r)
		if err != nil {
			return out, err
		}
		out = append(out, ev)
		if len(out) > 64 {
			return out, errors.New("too many events")
		}
	}
}

// sameOutcome reports whether two decodes of one stream agree: the same events, and errors
// with the same text (io.EOF for both at a clean or cut end).
func sameOutcome(evA, evB []smithy.Deserializable, errA, errB error) bool {
	if !reflect.DeepEqual(evA, evB) {
		return false
	}
	if errA == nil || errB == nil {
		return errA == errB
	}
	return errA.Error() == errB.Error() && (errA == io.EOF) == (errB == io.EOF)
}

// TestStreamProtocolMatchesSDK decodes streams of messages with the SDK's own protocol and
// with streamProtocol, which must give the same events and errors; fast says whether no
// message of the stream may reach the SDK's decoder (the fast path took them all).
func TestStreamProtocolMatchesSDK(t *testing.T) {
	t.Parallel()
	delta := func(payload string) []byte { return frame(t, eventHeadersOf("contentBlockDelta"), payload) }
	text := delta(`{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"}`)
	corrupt := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	withLen := func(b []byte, total uint32) []byte {
		c := bytes.Clone(b)
		binary.BigEndian.PutUint32(c[0:4], total)
		binary.BigEndian.PutUint32(c[8:12], crc32.ChecksumIEEE(c[:8]))
		return c
	}
	tests := []struct {
		name   string
		stream []byte
		fast   bool
	}{
		{"text delta with padding", text, true},
		{"text delta, no padding", delta(`{"contentBlockIndex":2,"delta":{"text":"world"}}`), true},
		{"text with JSON escapes and UTF-8", delta(`{"contentBlockIndex":0,"delta":{"text":"line\n\t\"q\" \\ / é 日本 🙂"}}`), true},
		{"empty text", delta(`{"contentBlockIndex":0,"delta":{"text":""}}`), true},
		{"members reordered", delta(`{"p":"x","delta":{"text":"a"},"contentBlockIndex":1}`), true},
		{"several deltas in a row", bytes.Join([][]byte{text, text, delta(`{"contentBlockIndex":0,"delta":{"text":" more"}}`)}, nil), true},
		{"whitespace everywhere", delta(" \t\r\n{ \"contentBlockIndex\" : 3 , \"delta\" : { \"text\" : \"a b\" } , \"p\" : \"pp\" } \n"), true},
		{"every short escape", delta(`{"contentBlockIndex":0,"delta":{"text":"\" \\ \/ \b \f \n \r \t end"}}`), true},
		{"largest index", delta(`{"contentBlockIndex":2147483647,"delta":{"text":"a"}}`), true},
		{"negative index", delta(`{"contentBlockIndex":-2147483648,"delta":{"text":"a"}}`), true},
		{"minus zero index", delta(`{"contentBlockIndex":-0,"delta":{"text":"a"}}`), true},
		{"index past int32", delta(`{"contentBlockIndex":2147483648,"delta":{"text":"a"}}`), false},
		{"index with a leading zero", delta(`{"contentBlockIndex":01,"delta":{"text":"a"}}`), false},
		{"index with an exponent", delta(`{"contentBlockIndex":1e2,"delta":{"text":"a"}}`), false},
		{"lone minus", delta(`{"contentBlockIndex":-,"delta":{"text":"a"}}`), false},
		{"index twice", delta(`{"contentBlockIndex":0,"contentBlockIndex":1,"delta":{"text":"a"}}`), false},
		{"delta twice", delta(`{"contentBlockIndex":0,"delta":{"text":"a"},"delta":{"text":"b"}}`), false},
		{"padding twice", delta(`{"contentBlockIndex":0,"delta":{"text":"a"},"p":"x","p":"y"}`), false},
		{"padding not a string", delta(`{"contentBlockIndex":0,"delta":{"text":"a"},"p":7}`), false},
		{"escaped key", delta(`{"contentBlock\u0049ndex":0,"delta":{"text":"a"}}`), false},
		{"key with a short escape", delta(`{"content\tBlockIndex":0,"delta":{"text":"a"}}`), false},
		{"bad escape", delta(`{"contentBlockIndex":0,"delta":{"text":"a\x"}}`), false},
		{"raw control character", delta("{\"contentBlockIndex\":0,\"delta\":{\"text\":\"a\x01b\"}}"), false},
		{"trailing garbage", delta(`{"contentBlockIndex":0,"delta":{"text":"a"}} x`), false},
		{"two objects", delta(`{"contentBlockIndex":0,"delta":{"text":"a"}}{}`), false},
		{"trailing comma", delta(`{"contentBlockIndex":0,"delta":{"text":"a"},}`), false},
		{"missing comma", delta(`{"contentBlockIndex":0 "delta":{"text":"a"}}`), false},
		{"unterminated text", delta(`{"contentBlockIndex":0,"delta":{"text":"a}}`), false},
		{"no delta", delta(`{"contentBlockIndex":0}`), false},
		{"empty object", delta(`{}`), false},
		{"null delta", delta(`{"contentBlockIndex":0,"delta":null}`), false},
		{"text with \\u escapes goes to the SDK", delta(`{"contentBlockIndex":0,"delta":{"text":"\u00e9\ud83d\ude42\u0000"}}`), false},
		{"lone surrogate escape", delta(`{"contentBlockIndex":0,"delta":{"text":"\ud800"}}`), false},
		{"tool use delta", delta(`{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"a\":1}"}}}`), false},
		{"reasoning delta", delta(`{"contentBlockIndex":0,"delta":{"reasoningContent":{"text":"hmm"}}}`), false},
		{"citation delta", delta(`{"contentBlockIndex":0,"delta":{"citation":{"title":"t","location":{"documentChar":{"documentIndex":0,"start":1,"end":5}}}}}`), false},
		{"two delta members", delta(`{"contentBlockIndex":0,"delta":{"text":"a","toolUse":{"input":"x"}}}`), false},
		{"unknown delta member", delta(`{"contentBlockIndex":0,"delta":{"somethingNew":{"x":1}}}`), false},
		{"no index", delta(`{"delta":{"text":"a"}}`), false},
		{"index not an integer", delta(`{"contentBlockIndex":1.5,"delta":{"text":"a"}}`), false},
		{"text not a string", delta(`{"contentBlockIndex":0,"delta":{"text":5}}`), false},
		{"payload not JSON", delta(`not json`), false},
		{"payload not UTF-8", delta("{\"contentBlockIndex\":0,\"delta\":{\"text\":\"\xff\"}}"), false},
		{"message start", frame(t, eventHeadersOf("messageStart"), `{"role":"assistant","p":"abc"}`), false},
		{"message stop", frame(t, eventHeadersOf("messageStop"), `{"stopReason":"end_turn"}`), false},
		{"metadata", frame(t, eventHeadersOf("metadata"), `{"usage":{"inputTokens":3,"outputTokens":5,"totalTokens":8},"metrics":{"latencyMs":12}}`), false},
		{"unknown event", frame(t, eventHeadersOf("newKindOfEvent"), `{}`), false},
		{"exception", frame(t, eventstream.Headers{
			{Name: ":exception-type", Value: eventstream.StringValue("modelStreamErrorException")},
			{Name: ":content-type", Value: eventstream.StringValue("application/json")},
			{Name: ":message-type", Value: eventstream.StringValue("exception")},
		}, `{"message":"The model stream failed.","originalStatusCode":500}`), false},
		{"error message", frame(t, eventstream.Headers{
			{Name: ":error-code", Value: eventstream.StringValue("InternalFailure")},
			{Name: ":error-message", Value: eventstream.StringValue("boom")},
			{Name: ":message-type", Value: eventstream.StringValue("error")},
		}, ``), false},
		{"event type as bytes", frame(t, eventstream.Headers{
			{Name: ":event-type", Value: eventstream.BytesValue([]byte("contentBlockDelta"))},
			{Name: ":message-type", Value: eventstream.StringValue("event")},
		}, `{"contentBlockIndex":0,"delta":{"text":"a"}}`), false},
		{"other content type", frame(t, eventstream.Headers{
			{Name: ":event-type", Value: eventstream.StringValue("contentBlockDelta")},
			{Name: ":content-type", Value: eventstream.StringValue("application/cbor")},
			{Name: ":message-type", Value: eventstream.StringValue("event")},
		}, `{"contentBlockIndex":0,"delta":{"text":"a"}}`), false},
		{"extra headers of every type", frame(t, append(eventHeadersOf("contentBlockDelta"),
			eventstream.Header{Name: "b", Value: eventstream.BoolValue(true)},
			eventstream.Header{Name: "f", Value: eventstream.BoolValue(false)},
			eventstream.Header{Name: "i8", Value: eventstream.Int8Value(-3)},
			eventstream.Header{Name: "i16", Value: eventstream.Int16Value(300)},
			eventstream.Header{Name: "i32", Value: eventstream.Int32Value(70000)},
			eventstream.Header{Name: "i64", Value: eventstream.Int64Value(1 << 40)},
			eventstream.Header{Name: "bytes", Value: eventstream.BytesValue([]byte{0, 1, 2})},
			eventstream.Header{Name: "uuid", Value: eventstream.UUIDValue{1, 2, 3}},
		), `{"contentBlockIndex":0,"delta":{"text":"a"}}`), true},
		{"empty stream", nil, true},
		{"cut inside the prelude", text[:7], true},
		{"cut inside the payload", text[:len(text)-10], true},
		{"cut before the checksum", text[:len(text)-2], true},
		{"cut after a whole message", append(bytes.Clone(text), text[:20]...), true},
		{"prelude checksum wrong", corrupt(text, 9), true},
		{"message checksum wrong", corrupt(text, len(text)-1), true},
		{"payload changed", corrupt(text, len(text)-12), true},
		{"zero length", withLen(text, 0), true},
		{"length shorter than its headers", withLen(text, 20), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evSDK, errSDK := decodeAll(sdkProtocol(), tt.stream)
			inner := &countingProtocol{ClientProtocol: sdkProtocol()}
			evOurs, errOurs := decodeAll(&streamProtocol{ClientProtocol: inner}, tt.stream)
			switch {
			case strings.HasPrefix(tt.name, "zero length"), strings.HasPrefix(tt.name, "length shorter"):
				// The SDK reads such a message as far as the stream goes; streamProtocol
				// refuses its prelude. Neither yields an event.
				if len(evSDK) != 0 || len(evOurs) != 0 || errOurs == nil || errOurs == io.EOF || !strings.Contains(errOurs.Error(), "decode event: message prelude length invalid") {
					t.Fatalf("SDK %v, %v; streamProtocol %v, %v", evSDK, errSDK, evOurs, errOurs)
				}
			case !sameOutcome(evSDK, evOurs, errSDK, errOurs):
				t.Fatalf("SDK: %d events %#v, err %v\nstreamProtocol: %d events %#v, err %v", len(evSDK), evSDK, errSDK, len(evOurs), evOurs, errOurs)
			}
			if calls := inner.calls.Load(); tt.fast && calls != 0 {
				t.Errorf("%d messages went to the SDK's decoder, want none", calls)
			} else if !tt.fast && calls == 0 {
				t.Errorf("no message went to the SDK's decoder")
			}
		})
	}
}

// FuzzStreamProtocol decodes, with the SDK's decoder and with streamProtocol, a well-formed
// message of a fuzzed event type and payload followed by fuzzed bytes: every event the SDK
// decodes, streamProtocol must decode the same, and where the SDK fails, streamProtocol
// must fail too (it may fail earlier: it refuses impossible lengths the SDK reads on).
func FuzzStreamProtocol(f *testing.F) {
	text := `{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abc"}`
	f.Add("contentBlockDelta", text, []byte(nil))
	f.Add("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"toolUse":{"input":"{}"}}}`, []byte(nil))
	f.Add("contentBlockDelta", `{"contentBlockIndex":7,"delta":{"text":"a\"b\\c\n"},"contentBlockIndex":8}`, []byte(nil))
	f.Add("messageStart", `{"role":"assistant"}`, frame(f, eventHeadersOf("contentBlockDelta"), text))
	f.Add("metadata", `{"usage":{"inputTokens":1,"outputTokens":2,"totalTokens":3}}`, []byte{0, 0, 0, 16})
	f.Fuzz(func(t *testing.T, eventType, payload string, tail []byte) {
		var b bytes.Buffer
		if err := eventstream.NewEncoder().Encode(&b, eventstream.Message{Headers: eventHeadersOf(eventType), Payload: []byte(payload)}); err != nil {
			return
		}
		stream := append(b.Bytes(), tail...)
		evSDK, errSDK := decodeAll(sdkProtocol(), stream)
		evOurs, errOurs := decodeAll(&streamProtocol{ClientProtocol: sdkProtocol()}, stream)
		if !reflect.DeepEqual(evSDK, evOurs) {
			if len(evOurs) >= len(evSDK) || !reflect.DeepEqual(evSDK[:len(evOurs)], evOurs) || errOurs == nil {
				t.Fatalf("SDK: %#v, %v\nstreamProtocol: %#v, %v", evSDK, errSDK, evOurs, errOurs)
			}
			return
		}
		if (errSDK == nil) != (errOurs == nil) {
			t.Fatalf("SDK err %v, streamProtocol err %v", errSDK, errOurs)
		}
	})
}

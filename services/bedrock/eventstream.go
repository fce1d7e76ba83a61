package bedrock

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/schemas"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/eventstream"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// streamProtocol is the SDK's protocol for one ConverseStream call, with its event-stream
// decoding sped up for the messages that make up almost all of a streamed answer: text
// deltas, one per token or so.
//
// The SDK decodes each message from the response body a few bytes at a time (the prelude's
// lengths, every header's name length, name, type and value, each through a CRC-computing
// reader), allocating a 255-byte array per header name and a growing buffer per payload,
// then runs the payload through its schema-driven JSON decoder. Measured on a streamed
// answer in the services (go test -memprofile over BenchmarkStreamForwarding), that was
// most of the bytes a stream allocates, and so most of the garbage collector's work in a
// burst of streams. streamProtocol reads each message whole into a buffer the call reuses,
// checks both checksums over slices, and reads the headers in place. A ConverseStream event
// whose type is contentBlockDelta and whose payload is exactly a text delta
// ({"contentBlockIndex": n, "delta": {"text": "…"}}, with any other top-level field, such
// as Bedrock's "p" padding, ignored as the SDK ignores it) is decoded here; every other
// message — other events, exceptions, errors, other delta kinds, anything unusual — goes
// to the SDK's own decoder, from the same bytes. FuzzStreamProtocol checks the two agree.
//
// A streamProtocol belongs to one call (see ownCodec): its buffer is not shared.
type streamProtocol struct {
	smithyhttp.ClientProtocol
	frame []byte
}

// Event-stream framing (the AWS event stream encoding): a 12-byte prelude (total length,
// headers length, the prelude's CRC-32), the headers, the payload, and the CRC-32 of all
// that precedes it.
const (
	preludeLen = 12
	messageCRC = 4
	// maxMessageLen bounds a message: the encoding's limits are 16 MiB of payload and
	// 128 KiB of headers. A longer prelude length is refused rather than allocated.
	maxMessageLen = 16<<20 + 128<<10 + preludeLen + messageCRC
	// keptFrame is the largest buffer a call keeps between messages.
	keptFrame = 64 << 10
)

// Header value types of the encoding, in the order the encoding numbers them.
const (
	headerTrue = iota
	headerFalse
	headerByte
	headerInt16
	headerInt32
	headerInt64
	headerBytes
	headerString
	headerTimestamp
	headerUUID
)

// DeserializeEventMessage reads one message from r. It returns io.EOF when r ends, cleanly
// or inside a message, as the SDK does (a stream cut mid-way shows as a missing final
// metadata event), and other failures wrapped as "decode event: …".
func (p *streamProtocol) DeserializeEventMessage(schema *smithy.Schema, types *smithy.TypeRegistry, r io.Reader) (smithy.Deserializable, error) {
	frame, err := p.readFrame(r)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("decode event: %w", err)
	}
	if schema == schemas.ConverseStreamOutput {
		if ev, ok := decodeTextDelta(frame); ok {
			return ev, nil
		}
	}
	return p.ClientProtocol.DeserializeEventMessage(schema, types, bytes.NewReader(frame))
}

// readFrame reads one whole message into p's buffer and checks its lengths and checksums.
func (p *streamProtocol) readFrame(r io.Reader) ([]byte, error) {
	var prelude [preludeLen]byte
	if _, err := io.ReadFull(r, prelude[:]); err != nil {
		return nil, err
	}
	total := binary.BigEndian.Uint32(prelude[0:4])
	headers := binary.BigEndian.Uint32(prelude[4:8])
	if crc32.ChecksumIEEE(prelude[:8]) != binary.BigEndian.Uint32(prelude[8:12]) {
		return nil, eventstream.ChecksumError{}
	}
	if total > maxMessageLen || uint64(total) < uint64(headers)+preludeLen+messageCRC {
		return nil, eventstream.LengthError{Part: "message prelude", Want: maxMessageLen, Have: int(total)}
	}
	if cap(p.frame) < int(total) {
		p.frame = make([]byte, total)
	}
	frame := p.frame[:total]
	copy(frame, prelude[:])
	if _, err := io.ReadFull(r, frame[preludeLen:]); err != nil {
		return nil, err
	}
	end := total - messageCRC
	if crc32.Update(0, crc32.IEEETable, frame[:end]) != binary.BigEndian.Uint32(frame[end:]) {
		return nil, eventstream.ChecksumError{}
	}
	if cap(p.frame) > keptFrame {
		p.frame = nil // a rare large message: do not keep its buffer for the whole stream
	}
	return frame, nil
}

// decodeTextDelta returns the event a well-formed frame holds when it is a
// contentBlockDelta event with a JSON payload that is exactly a text delta.
func decodeTextDelta(frame []byte) (smithy.Deserializable, bool) {
	headersLen := binary.BigEndian.Uint32(frame[4:8])
	hdrs := frame[preludeLen : preludeLen+headersLen]
	payload := frame[preludeLen+headersLen : len(frame)-messageCRC]
	messageType, eventType, contentType, ok := eventHeaders(hdrs)
	if !ok || string(messageType) != "event" || string(eventType) != "contentBlockDelta" ||
		(contentType != nil && string(contentType) != "application/json") {
		return nil, false
	}
	// Escaped code points (\u…) are left to the SDK's decoder, which has the last word on
	// what they decode to; text deltas carry their characters as UTF-8.
	if !utf8.Valid(payload) || bytes.Contains(payload, []byte(`\u`)) {
		return nil, false
	}
	index, text, ok := parseTextDelta(payload)
	if !ok {
		return nil, false
	}
	return &types.ContentBlockDeltaEvent{
		ContentBlockIndex: aws.Int32(index),
		Delta:             &types.ContentBlockDeltaMemberText{Value: text},
	}, true
}

// parseTextDelta parses a text delta's JSON payload: one object with a "contentBlockIndex"
// integer, a "delta" object whose only member is a "text" string, and optionally a "p"
// string (Bedrock's padding), each at most once, in any order, with JSON whitespace around
// the tokens. Anything else, however valid as JSON, is not ok: the caller then leaves the
// payload to the SDK. It allocates only the text.
func parseTextDelta(b []byte) (index int32, text string, ok bool) {
	p := jsonScanner{b: b}
	var seenIndex, seenDelta, seenPad bool
	if !p.byte('{') {
		return 0, "", false
	}
	for first := true; ; first = false {
		if p.byte('}') {
			break
		}
		if !first && !p.byte(',') {
			return 0, "", false
		}
		key, ok := p.rawString()
		if !ok || !p.byte(':') {
			return 0, "", false
		}
		switch string(key) {
		case "contentBlockIndex":
			if seenIndex {
				return 0, "", false
			}
			if index, ok = p.int32(); !ok {
				return 0, "", false
			}
			seenIndex = true
		case "delta":
			if seenDelta || !p.byte('{') {
				return 0, "", false
			}
			if k, ok := p.rawString(); !ok || string(k) != "text" || !p.byte(':') {
				return 0, "", false
			}
			if text, ok = p.string(); !ok || !p.byte('}') {
				return 0, "", false
			}
			seenDelta = true
		case "p":
			if seenPad {
				return 0, "", false
			}
			if _, ok := p.rawString(); !ok {
				return 0, "", false
			}
			seenPad = true
		default:
			return 0, "", false
		}
	}
	p.space()
	return index, text, seenIndex && seenDelta && p.i == len(p.b)
}

// jsonScanner reads the few JSON tokens parseTextDelta accepts.
type jsonScanner struct {
	b []byte
	i int
}

// space skips JSON whitespace.
func (s *jsonScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// byte consumes c after any whitespace and reports whether it was there.
func (s *jsonScanner) byte(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// rawString consumes a string without escapes and returns its bytes.
func (s *jsonScanner) rawString() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// string consumes a string, decoding the escapes \" \\ \/ \b \f \n \r \t (the caller has
// ruled out \u).
func (s *jsonScanner) string() (string, bool) {
	if !s.byte('"') {
		return "", false
	}
	start := s.i
	for s.i < len(s.b) && s.b[s.i] != '"' && s.b[s.i] != '\\' && s.b[s.i] >= 0x20 {
		s.i++
	}
	if s.i < len(s.b) && s.b[s.i] == '"' { // the common case: nothing to unescape
		s.i++
		return string(s.b[start : s.i-1]), true
	}
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return "", false
		}
		var r byte
		switch s.b[s.i+1] {
		case '"', '\\', '/':
			r = s.b[s.i+1]
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		default:
			return "", false
		}
		out = append(out, r)
		s.i += 2
	}
	return "", false
}

// int32 consumes a JSON integer (no fraction or exponent) that fits an int32.
func (s *jsonScanner) int32() (int32, bool) {
	s.space()
	start, neg := s.i, false
	if s.i < len(s.b) && s.b[s.i] == '-' {
		neg = true
		s.i++
	}
	digits := s.i
	var v int64
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		v = v*10 + int64(s.b[s.i]-'0')
		if v > 1<<31 {
			return 0, false
		}
		s.i++
	}
	n := s.i - digits
	if n == 0 || (n > 1 && s.b[digits] == '0') || (s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E')) {
		return 0, false
	}
	if neg {
		v = -v
	}
	if v < -1<<31 || v > 1<<31-1 || (neg && s.i-start == 1) {
		return 0, false
	}
	return int32(v), true
}

// eventHeaders reads a message's headers in place and returns its :message-type,
// :event-type and :content-type string values (contentType nil when absent). ok is false
// when a header is malformed, when one of the three appears twice or has another type, or
// when the first two are missing: such a message goes to the SDK.
func eventHeaders(b []byte) (messageType, eventType, contentType []byte, ok bool) {
	seen := 0
	for len(b) > 0 {
		nameLen := int(b[0])
		if nameLen == 0 || len(b) < 1+nameLen+1 {
			return nil, nil, nil, false
		}
		name := b[1 : 1+nameLen]
		kind := b[1+nameLen]
		b = b[1+nameLen+1:]
		size := 0
		switch kind {
		case headerTrue, headerFalse:
		case headerByte:
			size = 1
		case headerInt16:
			size = 2
		case headerInt32:
			size = 4
		case headerInt64, headerTimestamp:
			size = 8
		case headerUUID:
			size = 16
		case headerBytes, headerString:
			if len(b) < 2 {
				return nil, nil, nil, false
			}
			size = 2 + int(binary.BigEndian.Uint16(b))
		default:
			return nil, nil, nil, false
		}
		if len(b) < size {
			return nil, nil, nil, false
		}
		value := b[:size]
		b = b[size:]
		var dst *[]byte
		var bit int
		switch string(name) {
		case ":message-type":
			dst, bit = &messageType, 1
		case ":event-type":
			dst, bit = &eventType, 2
		case ":content-type":
			dst, bit = &contentType, 4
		default:
			continue
		}
		if kind != headerString || seen&bit != 0 {
			return nil, nil, nil, false
		}
		seen |= bit
		*dst = value[2:]
	}
	return messageType, eventType, contentType, seen&3 == 3
}

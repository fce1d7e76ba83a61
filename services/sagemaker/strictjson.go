package sagemaker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of a JSON document Portico reads (Python's json module,
// which most containers use, stops near 1,000 too).
const maxJSONDepth = 512

// DuplicateKeyError says that a JSON object has a key twice, or two keys that differ only in
// case. A container reading the document may take either value (the first, the last, or,
// parsing case-insensitively, the other spelling) while Portico reads one: the document is
// ambiguous, so it is refused rather than guessed at.
type DuplicateKeyError struct {
	// Path is the JSON path of the object, such as "$.parameters".
	Path string
	// Key is the second occurrence, as written (unescaped).
	Key string
	// Other is the first occurrence, when it differs from Key only in case.
	Other string
}

// Error names the key and where it is.
func (e *DuplicateKeyError) Error() string {
	if e.Other != "" && e.Other != e.Key {
		return fmt.Sprintf("key %q in %s duplicates %q (keys must be unique, ignoring case)", e.Key, e.Path, e.Other)
	}
	return fmt.Sprintf("duplicate key %q in %s", e.Key, e.Path)
}

var errTooDeep = errors.New("JSON nested too deeply")

// parseStrict parses one JSON document case-sensitively, refusing duplicate keys (exact or
// differing only in case) at any depth. Numbers are json.Number. Values nested deeper than
// keep levels below the top are checked but not kept (nil), so that a large payload is not
// copied into a tree nobody reads.
func parseStrict(b []byte, keep int) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := strictValue(dec, "$", 0, keep)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("JSON has data after the document")
	}
	return v, nil
}

func strictValue(dec *json.Decoder, path string, depth, keep int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		if depth > keep {
			return nil, nil
		}
		return tok, nil
	}
	switch d {
	case '{':
		var obj map[string]any
		if depth <= keep {
			obj = map[string]any{}
		}
		seen := map[string]string{} // folded key -> key as first written
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := kt.(string)
			f := foldKey(key)
			if first, dup := seen[f]; dup {
				return nil, &DuplicateKeyError{Path: path, Key: key, Other: first}
			}
			seen[f] = key
			v, err := strictValue(dec, path+"."+key, depth+1, keep)
			if err != nil {
				return nil, err
			}
			if obj != nil {
				obj[key] = v
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		if obj == nil {
			return nil, nil
		}
		return obj, nil
	case '[':
		var arr []any
		for i := 0; dec.More(); i++ {
			v, err := strictValue(dec, path+"["+strconv.Itoa(i)+"]", depth+1, keep)
			if err != nil {
				return nil, err
			}
			if depth <= keep {
				arr = append(arr, v)
			}
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		if depth > keep {
			return nil, nil
		}
		if arr == nil {
			arr = []any{}
		}
		return arr, nil
	}
	return nil, fmt.Errorf("unexpected %v in JSON", d)
}

// foldKey returns a canonical form of key under Unicode simple case folding (each rune
// replaced by the smallest rune of its folding orbit), so that keys that differ only in
// case fold to the same string.
func foldKey(key string) string {
	ascii := true
	for i := 0; i < len(key); i++ {
		if key[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		// The smallest rune of an ASCII letter's orbit is its upper case ('K' < U+212A).
		return strings.ToUpper(key)
	}
	var b []byte
	for _, r := range key {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b = utf8.AppendRune(b, m)
	}
	return string(b)
}

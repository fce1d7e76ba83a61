package sagemaker

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// maxTokensKeys are the JSON paths of the generation-length parameters Portico reads from an
// endpoint's JSON request: Hugging Face TGI and LMI containers (parameters.max_new_tokens),
// and OpenAI-compatible servers such as vLLM (max_tokens, max_completion_tokens).
var maxTokensKeys = [][]string{
	{"parameters", "max_new_tokens"},
	{"parameters", "max_tokens"},
	{"max_new_tokens"},
	{"max_tokens"},
	{"max_completion_tokens"},
}

// sequenceKeys are the JSON paths of parameters that make a container generate several
// sequences for one request (OpenAI-compatible servers' n and best_of, TGI's best_of, LMI's
// num_return_sequences): the reservation covers one sequence of max output, and a container's
// report may count only the sequence it returns, so Portico refuses any value but 1.
var sequenceKeys = [][]string{
	{"n"},
	{"best_of"},
	{"parameters", "n"},
	{"parameters", "best_of"},
	{"parameters", "num_return_sequences"},
}

// ReadMaxTokens reads the most output tokens a JSON request body asks for, so that Portico
// reserves what the container will generate. The body is parsed strictly, the way Portico
// and the container must agree on it: keys are case-sensitive, and a body with a key twice in
// one object, or two keys differing only in case (`max_new_tokens` and `MAX_NEW_TOKENS`), is
// refused, since containers differ in which one they read; so is a key Portico reads spelled
// in another case (`MAX_NEW_TOKENS` alone), which a case-insensitive container would read and
// Portico would not. Every length parameter present
// (see maxTokensKeys) must be a whole number from 1 to limit; the largest is returned, or 0
// when there is none. A body that is not a JSON object asks for nothing.
//
// Errors are INVALID_ARGUMENT *connect.Error values naming the key.
func ReadMaxTokens(body []byte, limit int64) (int64, error) {
	doc, err := parseStrict(body, 2)
	if err != nil {
		var dup *DuplicateKeyError
		if errors.As(err, &dup) {
			return 0, invalid("body: %v", dup)
		}
		return 0, invalid("body is not valid JSON: %v", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return 0, nil
	}
	if err := refuseVariants(obj, "", "parameters", "max_new_tokens", "max_tokens", "max_completion_tokens", "n", "best_of", "inputs"); err != nil {
		return 0, err
	}
	if p, ok := obj["parameters"].(map[string]any); ok {
		if err := refuseVariants(p, "parameters.", "max_new_tokens", "max_tokens", "n", "best_of", "num_return_sequences"); err != nil {
			return 0, err
		}
	}
	if err := oneSequence(obj); err != nil {
		return 0, err
	}
	var most int64
	for _, path := range maxTokensKeys {
		v, ok := lookup(obj, path)
		if !ok || v == nil {
			continue
		}
		key := strings.Join(path, ".")
		n, isNum := v.(json.Number)
		if !isNum {
			return 0, invalid("%s must be a whole number from 1 to %d", key, limit)
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil || i < 1 || i > limit {
			return 0, invalid("%s must be a whole number from 1 to %d for this endpoint", key, limit)
		}
		most = max(most, i)
	}
	return most, nil
}

// oneSequence refuses a request that asks for more than one generated sequence: a
// sequence-count parameter (see sequenceKeys) other than 1, or a batch of several inputs.
func oneSequence(obj map[string]any) error {
	for _, path := range sequenceKeys {
		v, ok := lookup(obj, path)
		if !ok || v == nil {
			continue
		}
		if n, isNum := v.(json.Number); !isNum || string(n) != "1" {
			return invalid("%s: Portico meters one generated sequence per request; leave it out or set it to 1", strings.Join(path, "."))
		}
	}
	if in, ok := obj["inputs"].([]any); ok && len(in) > 1 {
		return invalid("inputs: a batch of %d inputs is not supported; send one request per input", len(in))
	}
	return nil
}

// refuseVariants refuses a key of obj that differs only in case from one of the keys
// Portico reads there (`MAX_NEW_TOKENS`): Portico would not read it, a container parsing
// keys case-insensitively would.
func refuseVariants(obj map[string]any, prefix string, keys ...string) error {
	for k := range obj {
		for _, want := range keys {
			if k != want && foldKey(k) == foldKey(want) {
				return invalid("body: key %q is not %q (keys are case-sensitive)", prefix+k, prefix+want)
			}
		}
	}
	return nil
}

// lookup returns the value at path in obj.
func lookup(obj map[string]any, path []string) (any, bool) {
	var cur any = obj
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

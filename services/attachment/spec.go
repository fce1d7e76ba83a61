package attachment

import (
	"errors"
	"fmt"
	"strings"
)

// The kinds of attachment store a Spec names.
const (
	// KindDir is a folder on this machine (development, one instance).
	KindDir = "dir"
	// KindS3 is an Amazon S3 bucket (every instance; the bucket must exist).
	KindS3 = "s3"
)

// Spec is a parsed attachment store name, the form of PORTICO_ATTACHMENT_STORE:
// "dir:<path>" or "s3:<bucket>". Package opener opens it.
type Spec struct {
	// Kind is KindDir or KindS3.
	Kind string
	// Target is the folder's path or the bucket's name; never empty.
	Target string
}

// ParseSpec parses an attachment store name. Its errors name neither the variable nor the
// value: the caller wraps them with both.
func ParseSpec(s string) (Spec, error) {
	kind, target, ok := strings.Cut(s, ":")
	switch {
	case !ok || target == "":
		return Spec{}, errors.New("want dir:<path> or s3:<bucket>")
	case kind != KindDir && kind != KindS3:
		return Spec{}, fmt.Errorf("unknown attachment store %q, want dir:<path> or s3:<bucket>", kind)
	case kind == KindS3 && !validBucket(target):
		return Spec{}, errors.New("s3: not a bucket name (3 to 63 characters of a-z, 0-9, '.' and '-')")
	}
	return Spec{Kind: kind, Target: target}, nil
}

// validBucket reports whether name follows S3's general purpose bucket naming rules, as far
// as a typo goes: 3–63 characters of a–z, 0–9, '.' and '-', beginning and ending with a
// letter or digit.
func validBucket(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := range len(name) {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		edge := i == 0 || i == len(name)-1
		if !alnum && (edge || c != '.' && c != '-') {
			return false
		}
	}
	return true
}

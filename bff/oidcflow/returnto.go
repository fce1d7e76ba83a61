package oidcflow

import (
	"net/url"
	"strings"
)

// maxReturnTo bounds the length of a return path.
const maxReturnTo = 2048

// ValidReturnTo reports whether s is a local path safe to redirect to after sign-in, and
// returns the path to use ("/" for an empty s). It refuses anything a browser could resolve
// to another origin: schemes, hosts, "//" and "/\" prefixes, backslashes, control characters
// and whitespace (raw or percent-encoded), and "." or ".." segments.
func ValidReturnTo(s string) (string, bool) {
	if s == "" {
		return "/", true
	}
	if len(s) > maxReturnTo || !safeLocalPath(s) {
		return "", false
	}
	// Check the decoded forms too (repeatedly, for double encoding), so that encoded
	// separators and whitespace cannot reappear after another decoding step (a proxy, a
	// framework router).
	decoded := s
	for range 3 {
		next, err := url.PathUnescape(decoded)
		if err != nil || !safeLocalPath(next) {
			return "", false
		}
		if next == decoded {
			break
		}
		decoded = next
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	return s, true
}

func safeLocalPath(s string) bool {
	if len(s) == 0 || s[0] != '/' || strings.HasPrefix(s, "//") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c == 0x7f || c == '\\' || c >= 0x80 {
			return false
		}
	}
	path, _, _ := strings.Cut(s, "?")
	path, _, _ = strings.Cut(path, "#")
	for seg := range strings.SplitSeq(path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return !strings.Contains(path, "//")
}

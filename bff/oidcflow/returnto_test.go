package oidcflow

import (
	"net/url"
	"strings"
	"testing"
)

// openRedirects are the open-redirect forms of DESIGN.md's bug classes, and their relatives.
var openRedirects = []string{
	"//evil.com",
	"//evil.com/path",
	"/\\evil.com",
	"/\t/evil.com",
	"/./../../\\evil.com",
	"/%09/evil.com",
	"/%2509/evil.com",
	"/%0a/evil.com",
	"/%0d%0a/evil.com",
	"/%20/evil.com",
	"/%5cevil.com",
	"/%2f%2fevil.com",
	"/%2F/evil.com",
	"\\\\evil.com",
	"\\/evil.com",
	"https://evil.com",
	"http:evil.com",
	"javascript:alert(1)",
	"evil.com",
	" /evil",
	"/ /evil.com",
	"/\x00/evil.com",
	"/.//evil.com",
	"/a/../../evil.com",
	"/../evil.com",
	"/./evil",
	"///evil.com",
	"/\u3002evil.com",
	"/ａ",
	"/a\nLocation: https://evil.com",
}

func TestValidReturnToRefusesOpenRedirects(t *testing.T) {
	t.Parallel()
	for _, s := range openRedirects {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			if got, ok := ValidReturnTo(s); ok {
				t.Fatalf("ValidReturnTo(%q) = %q, true; want refused", s, got)
			}
		})
	}
	if _, ok := ValidReturnTo("/" + strings.Repeat("a", maxReturnTo)); ok {
		t.Fatal("ValidReturnTo accepted an over-long path")
	}
}

func TestValidReturnToAcceptsLocalPaths(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/chat", "/chat"},
		{"/chat/42?model=amazon.nova-lite-v1%3A0#end", "/chat/42?model=amazon.nova-lite-v1%3A0#end"},
		{"/usage?from=2026-01-01", "/usage?from=2026-01-01"},
		{"/a.b/c..d/", "/a.b/c..d/"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, ok := ValidReturnTo(tt.in)
			if !ok || got != tt.want {
				t.Fatalf("ValidReturnTo(%q) = %q, %v; want %q, true", tt.in, got, ok, tt.want)
			}
		})
	}
}

// FuzzReturnTo checks that every accepted return path, resolved the way a browser resolves a
// Location header, stays on the BFF's origin.
func FuzzReturnTo(f *testing.F) {
	for _, s := range openRedirects {
		f.Add(s)
	}
	f.Add("/chat?x=1")
	base, err := url.Parse("https://portico.example/auth/callback")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ValidReturnTo(s)
		if !ok {
			return
		}
		if strings.ContainsAny(got, "\\\t\r\n ") {
			t.Fatalf("accepted %q with a separator or whitespace", got)
		}
		ref, err := url.Parse(got)
		if err != nil {
			t.Fatalf("accepted unparsable %q: %v", got, err)
		}
		resolved := base.ResolveReference(ref)
		if resolved.Scheme != "https" || resolved.Host != "portico.example" {
			t.Fatalf("accepted %q resolves to %s", got, resolved)
		}
		if strings.HasPrefix(resolved.Path, "//") {
			t.Fatalf("accepted %q resolves to the protocol-relative path %q", got, resolved.Path)
		}
	})
}

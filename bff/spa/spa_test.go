package spa

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"index.html":                  {Data: []byte("<!doctype html><app-root></app-root>")},
		"main-ABCDEFGH.js":            {Data: []byte("console.log(1)")},
		"chunk-Z1Y2X3W4.js":           {Data: []byte("export{}")},
		"styles-QWERTY12.css":         {Data: []byte("body{}")},
		"favicon.ico":                 {Data: []byte("ico")},
		"media/roboto-ABCD1234.woff2": {Data: []byte("font")},
		"assets/config.json":          {Data: []byte("{}")},
	}
	h := New(files)
	tests := []struct {
		method, path   string
		wantStatus     int
		wantCache      string
		wantBodyPrefix string
	}{
		{"GET", "/", 200, CacheNone, "<!doctype html>"},
		{"GET", "/index.html", 200, CacheNone, "<!doctype html>"},
		{"GET", "/chat/42", 200, CacheNone, "<!doctype html>"},
		{"GET", "/usage?from=2026-01-01", 200, CacheNone, "<!doctype html>"},
		{"GET", "/main-ABCDEFGH.js", 200, CacheImmutable, "console.log"},
		{"GET", "/chunk-Z1Y2X3W4.js", 200, CacheImmutable, "export"},
		{"GET", "/styles-QWERTY12.css", 200, CacheImmutable, "body"},
		{"GET", "/media/roboto-ABCD1234.woff2", 200, CacheImmutable, "font"},
		{"GET", "/favicon.ico", 200, CacheNone, "ico"},
		{"GET", "/assets/config.json", 200, CacheNone, "{}"},
		{"HEAD", "/", 200, CacheNone, ""},
		{"GET", "/main-MISSING1.js", 404, CacheNone, "404"},
		{"GET", "/assets", 200, CacheNone, "<!doctype html>"},
		{"GET", "/../../etc/passwd", 200, CacheNone, "<!doctype html>"}, // cleaned to /etc/passwd: an app route
		{"POST", "/", 405, "", "method not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tt.wantStatus || rec.Header().Get("Cache-Control") != tt.wantCache || !strings.HasPrefix(string(body), tt.wantBodyPrefix) {
				t.Fatalf("%d %q %q; want %d %q %q…", rec.Code, rec.Header().Get("Cache-Control"), body, tt.wantStatus, tt.wantCache, tt.wantBodyPrefix)
			}
		})
	}
}

func TestNotBuilt(t *testing.T) {
	t.Parallel()
	h := New(fstest.MapFS{"README": {Data: []byte("x")}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/chat", nil))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "npm run build") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestIsHashed(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"main-WRDEV6GH.js":            true,
		"chunk-D-f09WnR.js":           true,
		"chunk-CMXUigB-.js":           true,
		"chunk-Gp-09_RV.js":           true,
		"chunk-kfzNMNHR.js":           true,
		"styles-7HHHJPUC.css":         true,
		"media/roboto-ABCD1234.woff2": true,
		"index.html":                  false,
		"favicon.ico":                 false,
		"my-component.js":             false,
		"assets/logo.svg":             false,
		"main-ABCDEFGH":               false,
		"x-ABCD1234.js":               true,
		"-ABCD1234.js":                false,
	}
	for name, want := range tests {
		if got := isHashed(name); got != want {
			t.Errorf("isHashed(%q) = %v, want %v", name, got, want)
		}
	}
}

// Package spa serves the built Angular app: files from its directory, index.html for every
// other path (history-API routing), long-lived caching for content-hashed files and none for
// index.html.
package spa

import (
	"errors"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// isHashed reports whether name is a content-hashed file of the Angular build: the last
// eight characters before the extension are the hash, after a '-' (main-WRDEV6GH.js,
// chunk-D-f09WnR.js, chunk-CMXUigB-.js, styles-7HHHJPUC.css, media/roboto-ABCD1234.woff2).
// Requiring an upper-case letter or a digit in the hash keeps plain names such as
// my-component.js out; a hash without one is merely served with no-cache.
func isHashed(name string) bool {
	base := path.Base(name)
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if ext == "" || len(stem) < 10 || stem[len(stem)-9] != '-' {
		return false
	}
	hash := stem[len(stem)-8:]
	strong := false
	for i := 0; i < len(hash); i++ {
		c := hash[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			strong = true
		case c >= 'a' && c <= 'z', c == '-', c == '_':
		default:
			return false
		}
	}
	return strong
}

// Cache-Control values.
const (
	CacheImmutable = "public, max-age=31536000, immutable"
	CacheNone      = "no-cache"
)

// Handler serves an SPA directory. Create it with New.
type Handler struct {
	files   fs.FS
	hasApp  bool
	fileSrv http.Handler
}

// New returns a Handler serving files; when files has no index.html it serves a page saying
// the SPA is not built (and how to build it).
func New(files fs.FS) *Handler {
	_, err := fs.Stat(files, "index.html")
	return &Handler{files: files, hasApp: err == nil, fileSrv: http.FileServerFS(files)}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !h.hasApp {
		notBuilt(w)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" || name == "index.html" {
		h.index(w, r)
		return
	}
	info, err := fs.Stat(h.files, name)
	switch {
	case err == nil && !info.IsDir():
		if isHashed(name) {
			w.Header().Set("Cache-Control", CacheImmutable)
		} else {
			w.Header().Set("Cache-Control", CacheNone)
		}
		r2 := *r
		u := *r.URL
		u.Path = "/" + name
		r2.URL = &u
		h.fileSrv.ServeHTTP(w, &r2)
	case path.Ext(name) != "" && (err == nil || errors.Is(err, fs.ErrNotExist)):
		// A missing asset is a 404, not index.html: a script tag must not receive HTML.
		w.Header().Set("Cache-Control", CacheNone)
		http.NotFound(w, r)
	default:
		h.index(w, r)
	}
}

func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", CacheNone)
	f, err := h.files.Open("index.html")
	if err != nil {
		http.Error(w, "index.html is unavailable", http.StatusInternalServerError)
		return
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	rs, ok := f.(io.ReadSeeker)
	if err != nil || !ok {
		http.Error(w, "index.html is unavailable", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", info.ModTime(), rs)
}

var notBuiltPage = template.Must(template.New("nb").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Portico · the web app is not built</title></head>
<body><main><h1>The Portico web app is not built</h1>
<p>The BFF is running, but its SPA directory has no index.html.</p>
<p>Build it with <code>make tools &amp;&amp; (cd frontend &amp;&amp; npm run build)</code>,
or point <code>PORTICO_SPA_DIR</code> at a built app. The API under <code>/api/</code> and sign-in under
<code>/auth/</code> work meanwhile.</p></main></body></html>
`))

func notBuilt(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = notBuiltPage.Execute(w, nil)
}

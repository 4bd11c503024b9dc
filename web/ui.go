package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// uiFiles is the wallet's web UI: a single-page app in plain JavaScript
// modules, served from the binary (no CDN, no build step).
//
//go:embed ui
var uiFiles embed.FS

// uiCSP keeps the UI to its own scripts and styles; pictures may come from
// other kits (a remote receiver's profile picture).
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

// ui serves the UI's files, and index.html for every other GET path (the
// app's own routes: /send, /login, ...). The API and /.well-known are
// never answered with the app.
func (s *Server) ui() http.Handler {
	files, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(err) // the embedded directory is always there
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := path.Clean("/" + r.URL.Path)
		if p == "/api" || strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/.well-known/") {
			writeError(w, http.StatusNotFound, "NotFoundError", "no such endpoint")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowedError", "the UI is only read")
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		if name := strings.TrimPrefix(p, "/"); name != "" && name != "index.html" {
			if st, err := fs.Stat(files, name); err == nil && !st.IsDir() {
				http.ServeFileFS(w, r, files, name)
				return
			}
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(index)
		}
	})
}

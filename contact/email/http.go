package email

import (
	"errors"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// AttachmentHandler serves GET /api/v1/attachments/{ref}: the bytes of an
// email attachment (refs are content hashes, so they cannot be guessed).
// Mount it behind authentication. Everything is served as a download in a
// sandbox; images may be shown inline with ?inline=1.
func (c *Channel) AttachmentHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ref := r.PathValue("ref")
		if ref == "" {
			ref = path.Base(r.URL.Path)
		}
		if !validRef(ref) {
			http.NotFound(w, r)
			return
		}
		b, err := c.st.Blob(r.Context(), ref)
		if errors.Is(err, ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			c.log.Warn("attachment download", "ref", ref, "err", err)
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		ct := b.ContentType
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt == "" {
			ct = "application/octet-stream"
		}
		disp := "attachment"
		if r.URL.Query().Get("inline") == "1" && inlineImage(ct) {
			disp = "inline"
		}
		h := w.Header()
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(b.Data)))
		h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": b.Name}))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox")
		h.Set("Cache-Control", "private, max-age=86400, immutable")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(b.Data)
	})
}

func validRef(ref string) bool {
	if len(ref) != 64 {
		return false
	}
	return strings.Trim(ref, "0123456789abcdef") == ""
}

func inlineImage(ct string) bool {
	switch strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0])) {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}

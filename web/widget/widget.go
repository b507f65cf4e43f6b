// Package widget serves the embeddable presence widget at GET /widget.js:
// a dependency-free custom element, <halyard-presence user="ID">, that
// renders a user's live presence from the Lanyard socket of the Halyard it
// was loaded from (docs: README "Widget").
//
// The script is embedded in the binary and served as it is, or gzip
// compressed when the client accepts it, with a strong ETag from its
// content hash. /widget.js is cached for a day and revalidated by ETag;
// /widget.js?v=<hash> (Script.VersionedPath) is cached for a year as
// immutable, for pages that pin one version.
package widget

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
)

//go:embed widget.js
var source []byte

// Path is where the script is served.
const Path = "/widget.js"

// cdnLine is the script's CDN constant, rewritten when another CDN is configured.
const cdnLine = `const CDN = "https://cdn.discordapp.com";`

// Cache lifetimes: a day for the plain URL (a new release reaches pages
// within a day, or at once for browsers that revalidate), a year for the
// versioned one, whose bytes never change.
const (
	cachePlain     = "public, max-age=86400"
	cacheVersioned = "public, max-age=31536000, immutable"
)

// Options configures the served script.
type Options struct {
	// CDNURL is the Discord CDN the widget loads avatars, emojis and
	// activity art from; empty means Discord's (https://cdn.discordapp.com).
	CDNURL string
}

// Script is the widget as served: its bytes, their gzip encoding and the
// content hash that names both.
type Script struct {
	body []byte
	gz   []byte
	hash string
}

// New builds the script for opts: the CDN set in, compressed once, hashed.
func New(opts Options) *Script {
	body := source
	if cdn := strings.TrimRight(opts.CDNURL, "/"); cdn != "" {
		lit, _ := json.Marshal(cdn) // a string always encodes, as a valid JS string literal
		body = bytes.Replace(source, []byte(cdnLine), []byte(`const CDN = `+string(lit)+`;`), 1)
	}
	sum := sha256.Sum256(body)
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // a valid level never fails
	_, _ = w.Write(body)                                   // writes to a bytes.Buffer do not fail
	_ = w.Close()
	return &Script{body: body, gz: gz.Bytes(), hash: hex.EncodeToString(sum[:8])}
}

// Hash is the content hash (16 hex digits) in the ETag and the versioned URL.
func (s *Script) Hash() string { return s.hash }

// VersionedPath is the immutable URL of this version: /widget.js?v=<hash>.
func (s *Script) VersionedPath() string { return Path + "?v=" + s.hash }

// Size returns the script's size in bytes, plain and gzip compressed.
func (s *Script) Size() (plain, gzipped int) { return len(s.body), len(s.gz) }

// Register adds GET /widget.js to e.
func (s *Script) Register(e *echo.Echo) { e.GET(Path, s.serve) }

// serve answers GET /widget.js whatever the query: an unknown or malformed
// v only gets the plain URL's shorter cache.
func (s *Script) serve(c echo.Context) error {
	req := c.Request()
	h := c.Response().Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin") // embeddable from pages that require CORP
	h.Set("Vary", "Accept-Encoding")
	if req.URL.Query().Get("v") == s.hash {
		h.Set("Cache-Control", cacheVersioned)
	} else {
		h.Set("Cache-Control", cachePlain)
	}
	body, etag := s.body, `"`+s.hash+`"`
	gz := acceptsGzip(req.Header.Values("Accept-Encoding"))
	if gz {
		body, etag = s.gz, `"`+s.hash+`-gzip"`
	}
	h.Set("ETag", etag)
	if matchesETag(req.Header.Values("If-None-Match"), s.hash) {
		return c.NoContent(http.StatusNotModified)
	}
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Response().WriteHeader(http.StatusOK)
	_, err := c.Response().Write(body)
	return err
}

// matchesETag reports whether an If-None-Match header names this script in
// either encoding (weak comparison, RFC 9110 §13.1.2), or is "*".
func matchesETag(values []string, hash string) bool {
	for _, v := range values {
		for _, tag := range strings.Split(v, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == `"`+hash+`"` || tag == `"`+hash+`-gzip"` {
				return true
			}
		}
	}
	return false
}

// acceptsGzip reports whether Accept-Encoding allows gzip: listed with a q
// that is not zero, or not listed and allowed by "*".
func acceptsGzip(values []string) bool {
	explicit, wildcard := -1.0, -1.0
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(item, ";")
			q, _ := qValue(params)
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				explicit = max(explicit, q)
			case "*":
				wildcard = max(wildcard, q)
			}
		}
	}
	if explicit >= 0 {
		return explicit > 0
	}
	return wildcard > 0
}

// qValue reads q= from a header item's parameters; ok is false without one.
func qValue(params string) (float64, bool) {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || q < 0 || q > 1 {
				return 0, true // a malformed q counts as refusal
			}
			return q, true
		}
	}
	return 1, false
}

package server

import (
	"net/http"
	"strings"
)

// anyOrigin is the Access-Control-Allow-Origin value of every response,
// shared: net/http copies header values when it writes them, and nothing
// appends to this one, so no request allocates it.
var anyOrigin = []string{"*"}

// answerCORS applies docs/compat/cross-dialect.md §1.3 before routing:
// Access-Control-Allow-Origin "*" on every response, never credentials; a
// preflight (OPTIONS with Origin and Access-Control-Request-Method) is
// answered at once with 200, the requested method and headers echoed
// (headers lower-cased, joined by commas without spaces) and max-age 600.
// It reports whether it answered.
func answerCORS(w http.ResponseWriter, req *http.Request) bool {
	h := w.Header()
	h["Access-Control-Allow-Origin"] = anyOrigin
	if req.Method != http.MethodOptions || req.Header.Get("Origin") == "" {
		return false
	}
	method := req.Header.Get("Access-Control-Request-Method")
	if method == "" {
		return false
	}
	var headers []string
	for _, v := range req.Header.Values("Access-Control-Request-Headers") {
		for _, part := range strings.Split(v, ",") {
			if part = strings.ToLower(strings.TrimSpace(part)); part != "" {
				headers = append(headers, part)
			}
		}
	}
	h.Set("Access-Control-Allow-Methods", method)
	h.Set("Access-Control-Allow-Headers", strings.Join(headers, ","))
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusOK)
	return true
}

package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// corsMiddleware applies docs/compat/cross-dialect.md §1.3: Access-Control-Allow-Origin
// "*" on every response, never credentials; a preflight (OPTIONS with
// Origin and Access-Control-Request-Method) is answered at once with 200,
// the requested method and headers echoed (headers lower-cased, joined by
// commas without spaces) and max-age 600.
func corsMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		h := c.Response().Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if req.Method != http.MethodOptions || req.Header.Get("Origin") == "" {
			return next(c)
		}
		method := req.Header.Get("Access-Control-Request-Method")
		if method == "" {
			return next(c)
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
		return c.NoContent(http.StatusOK)
	}
}

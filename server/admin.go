package server

import (
	"crypto/subtle"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// adminError is the admin API's error body.
func adminError(status int, message string) map[string]any {
	return map[string]any{"error": map[string]string{"code": StatusCode(status), "message": message}}
}

// adminErrorBody is adminError encoded.
func adminErrorBody(status int, message string) []byte {
	b, _ := Marshal(adminError(status, message)) // strings only: cannot fail
	return b
}

// adminFormat is the admin API's error format, declared as a dialect's is.
func adminFormat() ErrorFormat {
	return ErrorFormat{Prefixes: []string{"/admin/"},
		NotFound: adminErrorBody(http.StatusNotFound, http.StatusText(http.StatusNotFound)),
		TooLarge: adminErrorBody(http.StatusRequestEntityTooLarge, TooLargeMessage),
		Error:    adminErrorBody}
}

// registerAdmin adds /admin/v1, guarded by the admin bearer token.
func (s *Server) registerAdmin() {
	g := s.echo.Group("/admin/v1", s.requireAdmin)
	g.GET("/users", s.adminListUsers)
	g.POST("/users/:id/token", s.adminIssueToken)
	g.DELETE("/users/:id/token", s.adminRevokeToken)
	s.registerAdminUsers(g) // admin_users.go: one user, purge, stats
	s.registerBackup(g)
	g.GET("/cluster", s.adminCluster) // admin_cluster.go
	if s.opts.Demo != nil {
		s.registerDemo(g)
	}
	if s.opts.Pprof {
		s.registerPprof(g) // admin_pprof.go
	}
}

// requireAdmin checks Authorization: Bearer <ADMIN_TOKEN> in constant time.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	want := []byte("Bearer " + s.opts.AdminToken)
	return func(c echo.Context) error {
		got := []byte(c.Request().Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return JSON(c, http.StatusUnauthorized, adminError(http.StatusUnauthorized, "a valid admin bearer token is required"))
		}
		return next(c)
	}
}

// IsSnowflake reports whether s looks like a Discord id: 1 to 20 digits.
func IsSnowflake(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// AdminUser is one user of GET /admin/v1/users.
type AdminUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Status   string `json:"status"`
}

// adminListUsers pages through monitored users in id order.
func (s *Server) adminListUsers(c echo.Context) error {
	limit := 100
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return JSON(c, http.StatusBadRequest, adminError(http.StatusBadRequest, "limit must be an integer from 1 to 1000"))
		}
		limit = n
	}
	after := c.QueryParam("after")
	if after != "" && !IsSnowflake(after) {
		return JSON(c, http.StatusBadRequest, adminError(http.StatusBadRequest, "after must be a user id"))
	}
	search := c.QueryParam("search")
	if len(search) > maxSearchLen {
		return JSON(c, http.StatusBadRequest, adminError(http.StatusBadRequest, "search must be at most 100 characters"))
	}
	page := s.usersPage(after, limit+1, search)
	var next any
	if len(page) > limit {
		page = page[:limit]
		next = page[limit-1].ID
	}
	users := make([]AdminUser, len(page))
	for i, u := range page {
		users[i] = AdminUser{ID: u.ID, Username: u.Discord.Username(), Status: string(u.Status())}
	}
	return JSON(c, http.StatusOK, map[string]any{"users": users, "next": next})
}

// adminIssueToken issues (and so rotates) a user's API token.
func (s *Server) adminIssueToken(c echo.Context) error {
	id := c.Param("id")
	if !IsSnowflake(id) {
		return JSON(c, http.StatusBadRequest, adminError(http.StatusBadRequest, "id must be a Discord user id"))
	}
	tok, err := s.opts.Tokens.Issue(c.Request().Context(), id)
	if err != nil {
		return s.adminFailure(c, err)
	}
	return JSON(c, http.StatusOK, map[string]string{"token": tok})
}

// adminRevokeToken revokes a user's API token.
func (s *Server) adminRevokeToken(c echo.Context) error {
	id := c.Param("id")
	if !IsSnowflake(id) {
		return JSON(c, http.StatusBadRequest, adminError(http.StatusBadRequest, "id must be a Discord user id"))
	}
	if err := s.opts.Tokens.Revoke(c.Request().Context(), id); err != nil {
		return s.adminFailure(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// adminFailure maps a domain error to the admin error body.
func (s *Server) adminFailure(c echo.Context, err error) error {
	status := map[string]int{
		core.EINVALID:     http.StatusBadRequest,
		core.ENOTFOUND:    http.StatusNotFound,
		core.EUNAVAILABLE: http.StatusServiceUnavailable,
		core.ETOOLARGE:    http.StatusRequestEntityTooLarge,
	}[core.ErrorCode(err)]
	if status == 0 {
		s.log.Error("admin request failed", "path", c.Request().URL.Path, "err", err)
		status = http.StatusInternalServerError
	}
	return JSON(c, status, adminError(status, core.ErrorMessage(err)))
}

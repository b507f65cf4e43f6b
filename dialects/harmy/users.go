package harmy

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/github"
	"github.com/halyardhq/halyard/server"
)

// getUser serves GET /user/:id within the rate limits (limited): 400 for an id that is not a snowflake, 404
// for a user not monitored, 401 for a token that is not the user's own,
// else the presence (pre-rendered per snapshot), the KV when the request
// carries the user's token ({} without a token) and the linked GitHub
// profile from the cache.
func (d *Dialect) getUser(c echo.Context) error {
	if over, err := d.limited(c); over {
		return err
	}
	id := c.Param("id")
	if !validSnowflake(id) {
		return writeError(c, core.Errorf(core.EINVALID, "Invalid user id: expected a Discord user id (snowflake)"))
	}
	u, ok := d.opts.Hub.Get(id)
	if !ok {
		return writeError(c, core.Errorf(core.ENOTMONITORED, "user is not monitored"))
	}
	kv := []byte("{}")
	if token, present := requestToken(c.Request()); present {
		if d.opts.Tokens != nil && !d.opts.Tokens.Available() {
			return writeError(c, core.Errorf(core.EUNAVAILABLE, "the database is unavailable, try again later"))
		}
		if d.opts.Tokens == nil || !d.opts.Tokens.IsToken(id, token) {
			return writeError(c, core.Errorf(core.EUNAUTHORIZED, "token is not the user's own"))
		}
		kv = d.opts.Hub.Render(d.kv, u)
	}
	presence := d.opts.Hub.Render(d.presence, u)
	gh := renderGitHub(d.githubProfile(c.Request().Context(), id))

	buf := server.AnswerBuffer(len(presence) + len(kv) + len(gh) + 32)
	body := append(*buf, `{"presence":`...)
	body = append(body, presence...)
	body = append(body, `,"KV":`...)
	body = append(body, kv...)
	body = append(body, `,"github":`...)
	body = append(body, gh...)
	body = append(body, '}')
	err := server.JSONBlob(c, http.StatusOK, body) // copied out before it returns
	*buf = body
	server.ReleaseAnswerBuffer(buf)
	return err
}

// requestToken returns the token of the first Authorization header, bare
// or as "Bearer <token>" (docs/compat/cross-dialect.md §3.2). present is false when
// there is no header or it is empty.
func requestToken(r *http.Request) (token string, present bool) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 || strings.TrimSpace(values[0]) == "" {
		return "", false
	}
	token = strings.TrimSpace(values[0])
	if len(token) > 7 && strings.EqualFold(token[:7], "bearer ") {
		token = strings.TrimSpace(token[7:])
	}
	return token, true
}

// validSnowflake reports whether id is a Discord id: a decimal uint64
// without sign or leading zeros.
func validSnowflake(id string) bool {
	if id == "" || len(id) > 20 || id[0] == '0' && len(id) > 1 {
		return false
	}
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil && id[0] != '+'
}

// githubProfile returns the cached profile of the user's linked login, nil
// when none is linked, GitHub has no such user, or nothing is cached. It
// never waits on GitHub, except up to GitHubFirstWait when the cache knows
// nothing of the login yet (the first request after a restart).
func (d *Dialect) githubProfile(ctx context.Context, userID string) *github.Profile {
	if d.opts.GitHub == nil {
		return nil
	}
	rec, ok := d.opts.Hub.Record(userID)
	if !ok || rec.GitHubLogin == "" {
		return nil
	}
	if d.opts.GitHubFirstWait < 0 {
		return d.opts.GitHub.Get(rec.GitHubLogin)
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.GitHubFirstWait)
	defer cancel()
	p, _ := d.opts.GitHub.Lookup(ctx, rec.GitHubLogin, false) // no profile is "github": null
	return p
}

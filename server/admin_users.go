package server

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
)

// maxSearchLen bounds the users list's search text.
const maxSearchLen = 100

// usersPage is one page of monitored users after `after`, filtered by
// search (a case-insensitive substring of the id, username or display
// name) when it is not empty.
func (s *Server) usersPage(after string, limit int, search string) []*core.User {
	if search == "" {
		return s.opts.Hub.Page(after, limit)
	}
	needle := strings.ToLower(search)
	var match []*core.User
	for _, u := range s.opts.Hub.All() {
		if strings.Contains(u.ID, needle) || strings.Contains(strings.ToLower(u.Discord.Username()), needle) ||
			strings.Contains(strings.ToLower(u.Discord.GlobalName()), needle) {
			match = append(match, u)
		}
	}
	sort.Slice(match, func(i, j int) bool { return snowflakeLess(match[i].ID, match[j].ID) })
	start := 0
	if after != "" {
		start = sort.Search(len(match), func(i int) bool { return snowflakeLess(after, match[i].ID) })
	}
	return match[start:min(len(match), start+limit)]
}

// snowflakeLess orders ids numerically (shorter is smaller), as Hub.Page does.
func snowflakeLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// AdminUserRecord is what Halyard remembers about a user, as the admin
// API shows it; absent times and links are null.
type AdminUserRecord struct {
	MonitoringSince *time.Time `json:"monitoring_since"`
	LastSeen        *time.Time `json:"last_seen"`
	GitHub          *string    `json:"github"`
}

// AdminUserDetail is GET /admin/v1/users/{id}.
type AdminUserDetail struct {
	ID        string           `json:"id"`
	Monitored bool             `json:"monitored"`
	Username  *string          `json:"username"`
	Status    *string          `json:"status"` // null when not monitored
	Guilds    []string         `json:"guilds"`
	KVKeys    []string         `json:"kv_keys"`
	Token     bool             `json:"token"`
	Record    *AdminUserRecord `json:"record"`
	// OptedOut: the user hid themselves (.optout): every dialect answers
	// as for an unmonitored user, so Monitored is false and Status null;
	// Guilds still lists the watched guilds they are a member of.
	OptedOut bool `json:"opted_out"`
}

// registerAdminUsers adds the routes about one user and the node's stats.
func (s *Server) registerAdminUsers(g *echo.Group) {
	g.GET("/users/:id", s.adminGetUser)
	g.DELETE("/users/:id", s.adminPurgeUser)
	g.GET("/stats", s.adminStatsHandler(time.Now()))
}

// badUserID answers a :id that is not a Discord user id.
func badUserID(c echo.Context) error {
	return JSON(c, http.StatusBadRequest, adminError(http.StatusBadRequest, "id must be a Discord user id"))
}

// userDetail gathers what Halyard holds about id; ok is false when it
// holds nothing (not monitored, no KV, no token, no record, no opt-out).
func (s *Server) userDetail(id string) (d AdminUserDetail, ok bool) {
	d = AdminUserDetail{ID: id, Guilds: []string{}, KVKeys: s.opts.Hub.KV(id).Keys()}
	if d.KVKeys == nil {
		d.KVKeys = []string{}
	}
	d.Token = s.opts.Tokens.HasToken(id)
	if u, monitored := s.opts.Hub.Get(id); monitored {
		d.Monitored = true
		status := string(u.Status())
		d.Status = &status
		d.Guilds = append(d.Guilds, u.Guilds()...)
	}
	if d.OptedOut = s.opts.Hub.OptedOut(id); d.OptedOut {
		if u, member := s.opts.Hub.Member(id); member {
			d.Guilds = append(d.Guilds, u.Guilds()...)
		}
	}
	rec, hasRecord := s.opts.Hub.Record(id)
	if hasRecord {
		d.Record = &AdminUserRecord{MonitoringSince: timeOrNil(rec.MonitoringSince), LastSeen: timeOrNil(rec.LastSeen)}
		if rec.GitHubLogin != "" {
			d.Record.GitHub = &rec.GitHubLogin
		}
		if rec.Username != "" {
			d.Username = &rec.Username
		}
	}
	return d, d.Monitored || d.OptedOut || hasRecord || d.Token || len(d.KVKeys) > 0
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Millisecond) // the store's precision
	return &t
}

// adminGetUser shows what Halyard holds about one user, monitored or not.
func (s *Server) adminGetUser(c echo.Context) error {
	id := c.Param("id")
	if !IsSnowflake(id) {
		return badUserID(c)
	}
	d, ok := s.userDetail(id)
	if !ok {
		return JSON(c, http.StatusNotFound, adminError(http.StatusNotFound, "Halyard holds nothing about this user"))
	}
	return JSON(c, http.StatusOK, d)
}

// AdminPurged is DELETE /admin/v1/users/{id}'s answer.
type AdminPurged struct {
	ID      string `json:"id"`
	Removed struct {
		KVKeys int  `json:"kv_keys"`
		Token  bool `json:"token"`
		Record bool `json:"record"`
	} `json:"removed"`
	// Monitored: still in a watched guild, so still served, with an
	// empty KV and a fresh record (Note says so).
	Monitored bool   `json:"monitored"`
	Note      string `json:"note"`
}

// adminPurgeUser deletes a user's KV, token, record, and presence history
// with its opt-in (Hub.Purge's hook), from the store and from memory.
// Other nodes (the cluster) do not exist yet; once they do, the purge must
// reach them too.
func (s *Server) adminPurgeUser(c echo.Context) error {
	id := c.Param("id")
	if !IsSnowflake(id) {
		return badUserID(c)
	}
	if _, ok := s.userDetail(id); !ok {
		return JSON(c, http.StatusNotFound, adminError(http.StatusNotFound, "Halyard holds nothing about this user"))
	}
	var out AdminPurged
	out.ID = id
	// The token first: a leaked token stops working before anything else.
	out.Removed.Token = s.opts.Tokens.HasToken(id)
	if err := s.opts.Tokens.Revoke(c.Request().Context(), id); err != nil {
		return s.adminFailure(c, err)
	}
	p, err := s.opts.Hub.Purge(c.Request().Context(), id)
	if err != nil {
		return s.adminFailure(c, err)
	}
	out.Removed.KVKeys, out.Removed.Record, out.Monitored = p.KVKeys, p.Record, p.Monitored
	if p.Monitored {
		out.Note = "the user is still a member of a watched guild: they stay monitored, with an empty KV and a fresh record (monitoring since now)"
	} else {
		out.Note = "the user is not monitored: nothing about them is kept"
	}
	s.log.Info("admin purged a user", "user", id, "kv_keys", p.KVKeys, "token", out.Removed.Token,
		"record", p.Record, "still_monitored", p.Monitored)
	return JSON(c, http.StatusOK, out)
}

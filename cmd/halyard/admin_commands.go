package main

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/halyardhq/halyard/server"
)

// users lists monitored users: one page, or every page with all.
func (a *adminCmd) users(search string, limit int, after string, all bool) error {
	var rows []server.AdminUser
	var next *string
	for {
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if search != "" {
			q.Set("search", search)
		}
		if after != "" {
			q.Set("after", after)
		}
		var page struct {
			Users []server.AdminUser `json:"users"`
			Next  *string            `json:"next"`
		}
		if _, err := a.c.call(a.ctx, http.MethodGet, "/admin/v1/users", q, &page); err != nil {
			return err
		}
		rows, next = append(rows, page.Users...), page.Next
		if !all || next == nil {
			break
		}
		after = *next
	}
	if a.opts.json {
		return a.printJSON(map[string]any{"users": orEmpty(rows), "next": next})
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tSTATUS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Username, r.Status)
	}
	tw.Flush()
	fmt.Fprintf(a.stdout, "%d user(s)", len(rows))
	if search != "" {
		fmt.Fprintf(a.stdout, " matching %q", search)
	}
	fmt.Fprintln(a.stdout)
	if next != nil {
		fmt.Fprintf(a.stdout, "more: halyard admin users --after %s (or --all)\n", *next)
	}
	return nil
}

// user shows what the node holds about one user.
func (a *adminCmd) user(id string) error {
	var u server.AdminUserDetail
	body, err := a.c.call(a.ctx, http.MethodGet, "/admin/v1/users/"+id, nil, &u)
	if err != nil {
		return err
	}
	if a.opts.json {
		_, err := a.stdout.Write(indentJSON(body))
		return err
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\t%s\n", u.ID)
	fmt.Fprintf(tw, "Username\t%s\n", orDash(u.Username))
	switch {
	case u.Monitored:
		fmt.Fprintf(tw, "Monitored\tyes, %s (guilds %s)\n", orDash(u.Status), strings.Join(u.Guilds, ", "))
	case u.OptedOut && len(u.Guilds) > 0:
		fmt.Fprintf(tw, "Monitored\tno: opted out, served as not monitored (member of guilds %s)\n", strings.Join(u.Guilds, ", "))
	case u.OptedOut:
		fmt.Fprintf(tw, "Monitored\tno: opted out, and in no watched guild\n")
	default:
		fmt.Fprintf(tw, "Monitored\tno (in no watched guild)\n")
	}
	keys := "none"
	if len(u.KVKeys) > 0 {
		keys = fmt.Sprintf("%d: %s", len(u.KVKeys), strings.Join(u.KVKeys, ", "))
	}
	fmt.Fprintf(tw, "KV keys\t%s\n", keys)
	fmt.Fprintf(tw, "API token\t%s\n", yesNo(u.Token))
	if u.Record == nil {
		fmt.Fprintf(tw, "Record\tnone\n")
	} else {
		fmt.Fprintf(tw, "Monitoring since\t%s\n", timeOrDash(u.Record.MonitoringSince))
		fmt.Fprintf(tw, "Last seen\t%s\n", timeOrDash(u.Record.LastSeen))
		fmt.Fprintf(tw, "GitHub\t%s\n", orDash(u.Record.GitHub))
	}
	return tw.Flush()
}

// tokenIssue issues a token and prints it (alone on stdout, for scripts).
func (a *adminCmd) tokenIssue(id string) error {
	var out struct {
		Token string `json:"token"`
	}
	body, err := a.c.call(a.ctx, http.MethodPost, "/admin/v1/users/"+id+"/token", nil, &out)
	if err != nil {
		return err
	}
	if a.opts.json {
		_, err := a.stdout.Write(indentJSON(body))
		return err
	}
	fmt.Fprintf(a.stderr, "new API token for %s (any previous one no longer works; it is shown only now):\n", id)
	fmt.Fprintln(a.stdout, out.Token)
	return nil
}

// tokenRevoke revokes the user's token.
func (a *adminCmd) tokenRevoke(id string) error {
	if _, err := a.c.call(a.ctx, http.MethodDelete, "/admin/v1/users/"+id+"/token", nil, nil); err != nil {
		return err
	}
	if a.opts.json {
		return a.printJSON(map[string]any{"id": id, "token": "revoked"})
	}
	fmt.Fprintf(a.stdout, "revoked the API token of %s (if it had one)\n", id)
	return nil
}

// purge deletes the user's data after confirmation (or with --yes).
func (a *adminCmd) purge(id string, yes bool) error {
	if !yes && !a.confirm(id) {
		return &adminCallError{adminExitFailed, "not confirmed: nothing deleted (pass --yes to skip the question)"}
	}
	var p server.AdminPurged
	body, err := a.c.call(a.ctx, http.MethodDelete, "/admin/v1/users/"+id, nil, &p)
	if err != nil {
		return err
	}
	if a.opts.json {
		_, err := a.stdout.Write(indentJSON(body))
		return err
	}
	fmt.Fprintf(a.stdout, "purged %s: %d KV key(s), token %s, record %s\n", p.ID, p.Removed.KVKeys,
		map[bool]string{true: "revoked", false: "none held"}[p.Removed.Token],
		map[bool]string{true: "deleted", false: "none held"}[p.Removed.Record])
	fmt.Fprintf(a.stdout, "note: %s\n", p.Note)
	return nil
}

// stats prints the node's counters.
func (a *adminCmd) stats() error {
	var st server.AdminStats
	body, err := a.c.call(a.ctx, http.MethodGet, "/admin/v1/stats", nil, &st)
	if err != nil {
		return err
	}
	if a.opts.json {
		_, err := a.stdout.Write(indentJSON(body))
		return err
	}
	names := make([]string, 0, len(st.Sockets))
	var total int64
	for name, n := range st.Sockets {
		names = append(names, name)
		total += n
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %d", name, st.Sockets[name])
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Node\t%s\n", a.c.base)
	fmt.Fprintf(tw, "Version\t%s\n", st.Version)
	fmt.Fprintf(tw, "Up since\t%s (%s)\n", st.StartedAt.UTC().Format(time.RFC3339), time.Duration(st.UptimeSeconds)*time.Second)
	fmt.Fprintf(tw, "Ready\t%s\n", yesNo(st.Ready))
	fmt.Fprintf(tw, "Monitored users\t%d\n", st.MonitoredUsers)
	fmt.Fprintf(tw, "Open sockets\t%d (%s)\n", total, strings.Join(parts, ", "))
	fmt.Fprintf(tw, "All-users subscribers\t%d\n", st.Subscribers)
	fmt.Fprintf(tw, "Records pending\t%d\n", st.RecordsPending)
	fmt.Fprintf(tw, "Events published\t%d\n", st.Events)
	return tw.Flush()
}

// printJSON writes v indented.
func (a *adminCmd) printJSON(v any) error {
	b, err := server.Marshal(v)
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(indentJSON(b))
	return err
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func orDash(s *string) string {
	if s == nil || *s == "" {
		return "-"
	}
	return *s
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

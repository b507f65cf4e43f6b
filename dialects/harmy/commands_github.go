package harmy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/github"
)

// githubLinkWait bounds how long `.github <login>` waits for GitHub to
// confirm the login before linking it unconfirmed.
const githubLinkWait = 8 * time.Second

// github answers `.github <login>` and /github login:<login> by linking
// the GitHub account, and `.github` or /github alone by unlinking it. A
// login GitHub says does not exist is refused; one GitHub cannot confirm
// right now (down, rate limited) is linked and its profile appears once
// GitHub answers.
func (d *Dialect) github(ctx context.Context, req core.CommandRequest) core.CommandReply {
	login := req.Options["login"]
	if !req.Slash {
		switch {
		case len(req.Args) == 0 || len(req.Args) == 1 && req.Args[0] == "":
			login = ""
		case len(req.Args) == 1:
			login = req.Args[0]
		default:
			return reply(req, fmt.Sprintf("Usage: `%sgithub <login>` to link a GitHub account, `%sgithub` to unlink it.", d.prefix(req), d.prefix(req)))
		}
	}
	if login == "" {
		return d.unlinkGitHub(req)
	}
	if !github.ValidLogin(login) {
		return reply(req, ":x: That is not a GitHub username: 1 to 39 letters, digits or single hyphens, not starting or ending with a hyphen.")
	}
	if !d.monitored(req) {
		return reply(req, core.NotInWatchedGuild)
	}
	if d.opts.GitHub == nil {
		d.opts.Hub.SetGitHubLogin(req.UserID, login)
		return reply(req, fmt.Sprintf(":white_check_mark: Linked GitHub account `%s`.", login))
	}
	wctx, cancel := context.WithTimeout(ctx, githubLinkWait)
	defer cancel()
	p, err := d.opts.GitHub.Lookup(wctx, login, true)
	switch {
	case err == nil:
		d.opts.Hub.SetGitHubLogin(req.UserID, p.Login)
		return reply(req, fmt.Sprintf(":white_check_mark: Linked GitHub account `%s` (<%s>). It is in `github` of %s/user/%s.",
			p.Login, p.HTMLURL, d.externalURL(), req.UserID))
	case errors.Is(err, github.ErrNotFound):
		return reply(req, fmt.Sprintf(":x: GitHub has no user `%s`; nothing was linked.", login))
	}
	d.opts.Hub.SetGitHubLogin(req.UserID, login)
	return reply(req, fmt.Sprintf(":white_check_mark: Linked GitHub account `%s`. GitHub cannot be reached right now; "+
		"your profile will appear in `github` of %s/user/%s once it answers.", login, d.externalURL(), req.UserID))
}

// unlinkGitHub removes the author's link, if any.
func (d *Dialect) unlinkGitHub(req core.CommandRequest) core.CommandReply {
	rec, _ := d.opts.Hub.Record(req.UserID)
	if rec.GitHubLogin == "" {
		return reply(req, "No GitHub account is linked.")
	}
	d.opts.Hub.SetGitHubLogin(req.UserID, "")
	return reply(req, fmt.Sprintf(":white_check_mark: Unlinked GitHub account `%s`.", rec.GitHubLogin))
}

package privacy

import (
	"context"

	"github.com/halyardhq/halyard/core"
)

// optOut hides the author and words the outcome.
func (p *Privacy) optOut(ctx context.Context, req core.CommandRequest) string {
	changed, err := p.opts.Hub.SetOptOut(ctx, req.UserID, true)
	if err != nil {
		return p.failure(req, "opting out", err)
	}
	if !changed {
		return "You have already opted out: Halyard answers every API and socket as if it did not monitor you. `" +
			p.prefix(req) + cmdOptIn + "` shows you again."
	}
	p.opts.Logger.Info("privacy: a user opted out", "user", req.UserID)
	return "You have opted out. Every API Halyard serves (Lanyard, Lantern, harmy) and every socket now answers as if it " +
		"did not monitor you: no presence, no KV, no events, on this and every later start. Your KV and API token are " +
		"kept but not served; KV writes are refused. `" + p.prefix(req) + cmdOptIn + "` shows you again, `" +
		p.prefix(req) + cmdDelete + "` deletes what Halyard keeps about you."
}

// optIn shows the author again and words the outcome.
func (p *Privacy) optIn(ctx context.Context, req core.CommandRequest) string {
	changed, err := p.opts.Hub.SetOptOut(ctx, req.UserID, false)
	if err != nil {
		return p.failure(req, "opting in", err)
	}
	if !changed {
		return "You have not opted out, so nothing changed. `" + p.prefix(req) + cmdOptOut + "` hides you."
	}
	p.opts.Logger.Info("privacy: a user opted back in", "user", req.UserID)
	if !p.opts.Hub.IsMonitored(req.UserID) {
		return "You have opted back in. You are not in a server this bot watches, so Halyard serves your presence " +
			"once you join one."
	}
	return "You have opted back in: Halyard serves your presence and KV again, from now on."
}

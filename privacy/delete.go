package privacy

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/halyardhq/halyard/core"
)

// codeLength is how many characters of a random base32 text a
// confirmation code keeps: short enough to type. The code only guards
// against deleting by accident (a code is bound to the user who asked, and
// only they can send commands as themselves), so it needs no more.
const codeLength = 6

// held is what Halyard keeps about a user that a deletion removes.
type held struct {
	kvKeys int
	token  bool
	record bool
}

func (h held) empty() bool { return h.kvKeys == 0 && !h.token && !h.record }

// describe lists what is held, for the question and the answer.
func (h held) describe() string {
	var parts []string
	if h.kvKeys > 0 {
		parts = append(parts, plural(h.kvKeys, "KV pair"))
	}
	if h.token {
		parts = append(parts, "your API token")
	}
	if h.record {
		parts = append(parts, "your record (monitoring start, last sighting, linked GitHub login)")
	}
	return strings.Join(parts, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// heldAbout gathers what Halyard keeps about the user.
func (p *Privacy) heldAbout(userID string) held {
	_, record := p.opts.Hub.Record(userID)
	return held{kvKeys: p.opts.Hub.KV(userID).Len(), token: p.opts.Tokens.HasToken(userID), record: record}
}

// askDeletion says what a deletion would remove and hands out a code
// (replacing any earlier one).
func (p *Privacy) askDeletion(req core.CommandRequest) string {
	h := p.heldAbout(req.UserID)
	if h.empty() {
		p.mu.Lock()
		delete(p.pending, req.UserID)
		p.mu.Unlock()
		return "Halyard keeps no data about you: nothing to delete." + p.keptNote(req.UserID)
	}
	code := rand.Text()[:codeLength]
	now := p.opts.Now()
	p.mu.Lock()
	for id, pd := range p.pending { // expired codes go; the map holds only live ones
		if !now.Before(pd.expires) {
			delete(p.pending, id)
		}
	}
	p.pending[req.UserID] = pendingDeletion{code: code, expires: now.Add(p.opts.CodeTTL)}
	p.mu.Unlock()

	confirm := "`" + p.prefix(req) + cmdDelete + " confirm " + code + "`"
	if req.Slash {
		confirm = "`/privacy delete-my-data code:" + code + "`"
	}
	return "This deletes, from the database and from memory: " + h.describe() + ". It cannot be undone." +
		p.keptNote(req.UserID) + "\nTo confirm, send " + confirm + " within " + minutes(p.opts.CodeTTL) + "."
}

// keptNote says what a deletion keeps: the opt-out flag, and the live
// presence of a member (which comes from Discord, not from the store).
func (p *Privacy) keptNote(userID string) string {
	if p.opts.Hub.OptedOut(userID) {
		return " Your opt-out is kept (it is the one thing Halyard keeps), so you stay hidden."
	}
	return ""
}

func minutes(d time.Duration) string {
	m := int(d.Minutes())
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// confirmDeletion deletes what Halyard keeps about the author when code is
// the live code they were given: the token, then the hub's purge (KV,
// record). A failed deletion keeps the code, so sending it again finishes
// the job (both steps are idempotent).
func (p *Privacy) confirmDeletion(ctx context.Context, req core.CommandRequest, code string) string {
	again := "Send `" + p.prefix(req) + cmdDelete + "` for a new code."
	if req.Slash {
		again = "Run `/privacy delete-my-data` for a new code."
	}
	now := p.opts.Now()
	p.mu.Lock()
	pd, ok := p.pending[req.UserID]
	switch {
	case !ok:
		p.mu.Unlock()
		return "No deletion is waiting for your confirmation, so nothing was deleted. " + again
	case !now.Before(pd.expires):
		delete(p.pending, req.UserID)
		p.mu.Unlock()
		return "That code has expired, so nothing was deleted. " + again
	case subtle.ConstantTimeCompare([]byte(strings.ToUpper(strings.TrimSpace(code))), []byte(pd.code)) != 1:
		p.mu.Unlock()
		return "That is not the code Halyard gave you, so nothing was deleted. Check it, or ask again: " + again
	}
	p.mu.Unlock()

	h := p.heldAbout(req.UserID)
	if h.empty() { // deleted meanwhile (by the admin API, or a code sent twice)
		p.dropCode(req.UserID, pd.code)
		return "Halyard keeps no data about you: nothing to delete." + p.keptNote(req.UserID)
	}
	// The token first, as the admin API's purge: a leaked token stops
	// working before anything else goes.
	if err := p.opts.Tokens.Revoke(ctx, req.UserID); err != nil {
		return p.deleteFailed(req, err)
	}
	purged, err := p.opts.Hub.Purge(ctx, req.UserID)
	if err != nil {
		return p.deleteFailed(req, err)
	}
	p.dropCode(req.UserID, pd.code)
	p.opts.Logger.Info("privacy: a user deleted their data", "user", req.UserID, "kv_keys", purged.KVKeys,
		"token", h.token, "record", purged.Record, "still_monitored", purged.Monitored)

	msg := "Deleted: " + h.describe() + "."
	switch {
	case p.opts.Hub.OptedOut(req.UserID):
		msg += " Your opt-out is kept (the one thing Halyard keeps), so you stay hidden."
	case purged.Monitored:
		msg += " You are still in a server this bot watches, so Halyard still serves your live presence (it comes " +
			"from Discord, not from storage) and starts a fresh record. `" + p.prefix(req) + cmdOptOut + "` hides you."
	}
	return msg
}

// deleteFailed words a failed deletion: part may be gone, and the same
// code finishes it.
func (p *Privacy) deleteFailed(req core.CommandRequest, err error) string {
	if core.ErrorCode(err) != core.EUNAVAILABLE {
		p.opts.Logger.Error("privacy: deleting a user's data failed", "user", req.UserID, "err", err)
	}
	return "The deletion could not finish (the database did not answer); part of your data may be deleted already. " +
		"Send the same confirmation again in a moment to finish it."
}

// dropCode forgets a used code; a newer one asked for meanwhile stays.
func (p *Privacy) dropCode(userID, code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cur, ok := p.pending[userID]; ok && cur.code == code {
		delete(p.pending, userID)
	}
}

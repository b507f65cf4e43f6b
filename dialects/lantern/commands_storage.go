package lantern

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/halyardhq/halyard/core"
)

// Replies of /storage (docs/compat/lantern.md §7.2; Lantern's are paraphrased there, these are
// Halyard's).
const (
	replyGetToken = "Your token cannot be shown again: Halyard stores only a hash of it, so nobody — not even this bot — can read it back. " +
		"If you lost it, run `/storage create token` to get a new one; the old one stops working at once."
	replyNoStorage    = "You do not have a storage yet. Create one first using `/storage create token`."
	replyInvalidPair  = "Invalid key-value pair. Keys are 1-255 letters and digits; values are at most 30,000 characters."
	replyTooManyPairs = "You can only store up to 512 key-value pairs."
	replyEmpty        = "You do not have any data in your storage."
	replyFailed       = "Something went wrong on our side, try again later."
	replyUnknownSub   = "Unknown /storage command."
	replyResetAsk     = "This deletes every key-value pair in your storage (your token stays). To confirm, run `/storage reset confirm:True`."
	// listLimit is how long the /storage list listing may grow (docs/compat/lantern.md §7.2: 1800).
	listLimit = 1800
	// shownValueLimit bounds a value echoed in a reply (messages hold 2000).
	shownValueLimit = 500
)

// createToken issues a new token (revoking the old one) and shows it once.
func (d *Dialect) createToken(ctx context.Context, req core.CommandRequest) core.CommandReply {
	tok, err := d.opts.Tokens.Issue(ctx, req.UserID)
	if err != nil {
		return d.reply(req, d.failure(req, "issuing a token", err))
	}
	msg := "Here is your new storage token. It is shown only this once — Halyard keeps only a hash of it. Keep it safe and never share it.\n" +
		"```\n" + tok + "\n```\n" +
		"Send it in the `Authorization` header to write to `" + d.opts.ExternalURL + "/api/v1/users/" + req.UserID + "/storage/<key>`. " +
		"Running `/storage create token` again replaces it; the old one stops working at once."
	return core.CommandReply{Messages: []core.Message{{Content: msg, Ephemeral: true}}}
}

// setData serves create data and update data: both set the key, creating
// it if needed (docs/compat/lantern.md §9 #28).
func (d *Dialect) setData(ctx context.Context, req core.CommandRequest) core.CommandReply {
	if !d.hasStorage(req.UserID) {
		return d.reply(req, replyNoStorage)
	}
	key, value := req.Options["key"], req.Options["value"]
	if err := validatePair(key, value); err != nil {
		return d.reply(req, replyInvalidPair)
	}
	if err := d.opts.Hub.PutKV(ctx, req.UserID, key, value); err != nil {
		return d.reply(req, d.failure(req, "setting a key", err))
	}
	if req.SubCommand == "update data" {
		return d.reply(req, "Data for the key "+code(key)+" updated to "+code(value)+".")
	}
	return d.reply(req, "New key-value pair added to your storage: "+code(key)+" -> "+code(value))
}

// getData shows one value.
func (d *Dialect) getData(req core.CommandRequest) core.CommandReply {
	if !d.hasStorage(req.UserID) {
		return d.reply(req, replyNoStorage)
	}
	key := req.Options["key"]
	v, ok := d.opts.Hub.KV(req.UserID).Get(key)
	if !ok {
		return d.reply(req, "Could not find the data for the key "+code(key)+".")
	}
	if v == "" {
		return d.reply(req, "The value of "+code(key)+" is empty.")
	}
	return d.reply(req, "Data for the key "+code(key)+": "+code(v))
}

// deleteData removes a key; an absent key is reported as deleted too
// (docs/compat/lantern.md §9 #28).
func (d *Dialect) deleteData(ctx context.Context, req core.CommandRequest) core.CommandReply {
	if !d.hasStorage(req.UserID) {
		return d.reply(req, replyNoStorage)
	}
	key := req.Options["key"]
	if d.opts.Hub.KV(req.UserID).Has(key) {
		if err := d.opts.Hub.DeleteKV(ctx, req.UserID, key); err != nil {
			return d.reply(req, d.failure(req, "deleting a key", err))
		}
	}
	return d.reply(req, "Data for the key "+code(key)+" deleted.")
}

// listData shows every pair as pseudo-JSON in a code block; past
// listLimit the rest is counted and the REST route named.
func (d *Dialect) listData(req core.CommandRequest) core.CommandReply {
	if !d.hasStorage(req.UserID) {
		return d.reply(req, replyNoStorage)
	}
	kv := d.opts.Hub.KV(req.UserID)
	if kv.Len() == 0 {
		return d.reply(req, replyEmpty)
	}
	var b strings.Builder
	shown := 0
	for k, v := range kv.All() { // insertion order, as Lantern stores it
		line := fmt.Sprintf("  %q: %q,\n", defuse(k), defuse(v))
		if b.Len()+len(line) > listLimit {
			break
		}
		b.WriteString(line)
		shown++
	}
	msg := "```json\n{\n" + strings.TrimSuffix(b.String(), ",\n") + "\n}\n```"
	if rest := kv.Len() - shown; rest > 0 {
		msg += fmt.Sprintf("…and %d more. See them all at %s/api/v1/users/%s/storage", rest, d.opts.ExternalURL, req.UserID)
	}
	return d.reply(req, msg)
}

// resetData deletes every pair once confirmed (Lantern's Confirm button
// becomes the confirm option); the token stays.
func (d *Dialect) resetData(ctx context.Context, req core.CommandRequest) core.CommandReply {
	if !d.hasStorage(req.UserID) {
		return d.reply(req, replyNoStorage)
	}
	if req.Options["confirm"] != "true" {
		return d.reply(req, replyResetAsk)
	}
	n := d.opts.Hub.KV(req.UserID).Len()
	if err := d.clearKV(ctx, req.UserID); err != nil {
		return d.reply(req, d.failure(req, "resetting a storage", err))
	}
	return d.reply(req, fmt.Sprintf("Your storage has been reset: %d key-value pairs deleted.", n))
}

// failure words a failed write for the user and logs internal errors.
func (d *Dialect) failure(req core.CommandRequest, what string, err error) string {
	var kv *core.KVError
	if errors.As(err, &kv) {
		if kv.Reason == core.KVTooManyPairs {
			return replyTooManyPairs
		}
		return replyInvalidPair
	}
	switch core.ErrorCode(err) {
	case core.EINVALID, core.ETOOLARGE:
		return replyInvalidPair
	case core.ENOTMONITORED:
		return core.NotInWatchedGuild
	case core.EUNAVAILABLE:
		return core.ErrorMessage(err)
	}
	d.log.Error("lantern: "+what+" failed", "user", req.UserID, "err", err)
	return replyFailed
}

// code shows s in a code span: backticks (which would end it) become
// U+02CB, and long values are cut.
func code(s string) string {
	if utf8.RuneCountInString(s) > shownValueLimit {
		s = string([]rune(s)[:shownValueLimit]) + "…"
	}
	if s == "" {
		return "` `"
	}
	return "`" + defuse(s) + "`"
}

// defuse replaces backticks so a value cannot close its code span or block.
func defuse(s string) string {
	return strings.ReplaceAll(s, "`", "\u02cb")
}

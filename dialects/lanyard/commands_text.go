package lanyard

import (
	"strconv"
	"strings"

	"github.com/rivo/uniseg"

	"github.com/halyardhq/halyard/core"
)

// The bot's reply texts, word for word from docs/compat/lanyard.md §6.4. Each
// function is named after the reply it builds (G1, S1, …); p is the
// configured prefix, u the external URL. Mentions are defused by discord/
// when the text is sent, never here.

// replyLimit is Discord's limit on a message's content, in characters.
const replyLimit = 2000

// replyGetFound is G1. Every backtick of the value is followed by a
// zero-width space, so the value cannot close the code block.
func replyGetFound(key, value string) string {
	return ":white_check_mark: Key: `" + key + "` | Value: ```" + strings.ReplaceAll(value, "`", "`\u200b") + "```"
}

// replyGetTooLong is G2, for a value whose G1 would not fit in a message.
func replyGetTooLong(key, u, userID string) string {
	return ":x: The value for `" + key + "` is too long to display in Discord.\nView it at " + u + "/v1/users/" + userID
}

// replyGetMissing is G3. The key was never validated (any text the user
// typed, up to 4 000 characters with Nitro), so its echo is clipped to fit.
func replyGetMissing(key string) string {
	return ":x: Key " + echoKey(key) + " not found in KV"
}

// maxEchoKey is how many characters of an unvalidated key a reply repeats.
const maxEchoKey = 1000

// echoKey returns key, cut to maxEchoKey characters with an ellipsis, so a
// reply that repeats what the user typed stays within replyLimit.
func echoKey(key string) string {
	n := 0
	for i := range key { // i steps over characters (an invalid byte counts as one)
		if n == maxEchoKey {
			return key[:i] + "…"
		}
		n++
	}
	return key
}

// replySet is S1.
func replySet(key, p, u, userID string) string {
	return ":white_check_mark: `" + key + "` was set. View it with `" + p + "get " + key + "` or go to " + u + "/v1/users/" + userID
}

// replyDeleted is D1.
func replyDeleted(key string) string {
	return ":white_check_mark: Deleted key: `" + echoKey(key) + "`"
}

// replyKeysHeader is the first part of K1, up to the opening fence.
func replyKeysHeader(p string) string {
	return "*`" + p + "get <key>` to get a value*\n" +
		"*`" + p + "del <key>` to delete an existing key*\n" +
		"*`" + p + "set <key> <value>` to set a key*\n\n" +
		"**Keys:** ```"
}

// replyKeys is K1 listing keys (sorted by the caller), or "No keys".
func replyKeys(p string, keys []string) string {
	list := "No keys"
	if len(keys) > 0 {
		list = strings.Join(keys, ", ")
	}
	return replyKeysHeader(p) + list + "```"
}

// replyKeysShortened is K1 for a list too long for one message: as many
// keys as fit, then how many were left out. (Lanyard sends the whole list
// and Discord refuses it, so its users get no reply at all.)
func replyKeysShortened(p string, keys []string) string {
	fixed := displayLength(replyKeys(p, nil)) - len("No keys")
	var b strings.Builder
	for i, k := range keys {
		more := ", … and " + strconv.Itoa(len(keys)-i) + " more"
		sep := ""
		if i > 0 {
			sep = ", "
		}
		// Keys are ASCII (the key rule), so bytes are characters here.
		if fixed+b.Len()+len(sep)+len(k)+len(more) > replyLimit {
			if i == 0 {
				more = strings.TrimPrefix(more, ", ")
			}
			b.WriteString(more)
			break
		}
		b.WriteString(sep + k)
	}
	return replyKeysHeader(p) + b.String() + "```"
}

// displayLength is the length Discord sees for content s: characters
// (grapheme clusters) after discord/ has defused every @ with two
// zero-width spaces.
func displayLength(s string) int {
	return uniseg.GraphemeClusterCount(strings.ReplaceAll(s, "@", "@\u200b\u200b"))
}

// replyUsage is I-get, I-set or I-del; syntax is the command after the
// prefix ("get <key>").
func replyUsage(command, p, syntax string) string {
	return "Invalid usage. Example `" + command + "` command usage:\n`" + p + syntax + "`"
}

// replyDMOnly is A0.
const replyDMOnly = ":x: You can only perform this command in DMs with me"

// replyLeakWarning is L1, posted where the key was leaked.
const replyLeakWarning = ":x: Whoops, you just posted your API key, this is meant to stay private, regenerating this for you, check your DM"

// replyLeakNewKey is L2, sent by DM. The `.apikey` in it is literal, not
// the configured prefix.
func replyLeakNewKey(apikey string) string {
	return ":repeat: **We've regenerated your api key as you used it in a K/V command.**\n" +
		"Your new Lanyard API key is `" + apikey + "`\n\n" +
		"**ABSOLUTELY DO NOT SHARE OR POST THIS KEY ANYWHERE IT WILL ALLOW ANYONE TO MANAGE YOUR LANYARD K/V**\n" +
		"*Run `.apikey` in this DM if you need to re-generate your key*"
}

// replyLeakRotateFailed replaces L1 and L2 when the leaked key could not be
// replaced: telling the user to check their DM would be false.
func replyLeakRotateFailed(p string, err error) string {
	return ":x: Whoops, you just posted your API key, this is meant to stay private, but I could not regenerate it: " +
		failureReason(err) + " Run `" + p + "apikey` in a DM with me as soon as you can."
}

// apiKeyEmbed is A1.
func apiKeyEmbed(apikey, u, userID string) core.Embed {
	return core.Embed{
		Title: "Lanyard API Key",
		Description: "**Absolutely do not share or post this key anywhere, it is a secret key that will allow anyone to manage your Lanyard K/V**\n\n" +
			"**This key is not to be used in a front-end application/website**\n\n" +
			"If you are looking for the public endpoint for your data, you would use your discord user ID like so\n" +
			u + "/v1/users/" + userID,
		Color:  embedColor,
		Fields: []core.EmbedField{{Name: "Key", Value: "||`" + apikey + "`||\n-# *click above to reveal*"}},
		Footer: "Run this command again if you need to re-generate your key",
	}
}

// replyFailure is the reply when a command could not be carried out
// because of the server, not the user: the database is down, or a bug.
// Lanyard has no such reply (it crashes silently); silence would leave the
// user guessing.
func replyFailure(err error) string {
	return ":x: " + failureReason(err)
}

// failureReason words err for a Discord user, as one sentence.
func failureReason(err error) string {
	switch core.ErrorCode(err) {
	case core.EUNAVAILABLE:
		return "The database is unavailable, try again later."
	case core.EINTERNAL:
		return "Something went wrong on our side, try again later."
	}
	msg := core.ErrorMessage(err)
	if msg == "" {
		return "Something went wrong on our side, try again later."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

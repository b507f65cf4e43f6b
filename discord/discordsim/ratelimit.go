package discordsim

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Discord rate-limits REST per bucket: a route (method and path with ids
// taken out) and its major parameter (the guild, channel or webhook it
// acts on). Every answer says where its bucket stands in X-RateLimit-*
// headers, which clients (arikawa, discord.js) read to pace themselves;
// a request past the limit gets 429 with retry_after in its body.

// defaultBucketLimit is the requests a bucket allows per window when the
// Config sets none: far more than a test sends, so nothing is refused, but
// the headers still count down as Discord's do.
const defaultBucketLimit = 10000

// rateLimiter holds the buckets' windows.
type rateLimiter struct {
	limit  int
	window time.Duration

	mu      sync.Mutex
	buckets map[string]*bucketWindow // route key + major parameter
}

type bucketWindow struct {
	used  int
	reset time.Time
}

// bucketOf returns the bucket hash (as Discord's X-RateLimit-Bucket, one
// per route shape) and the key of this request's window (the shape and
// its major parameter).
func bucketOf(method string, seg []string) (hash, key string) {
	shape := make([]string, 0, len(seg)+1)
	shape = append(shape, method)
	major := ""
	for i, p := range seg {
		if i > 0 && major == "" && (seg[i-1] == "guilds" || seg[i-1] == "channels" || seg[i-1] == "webhooks") {
			major = p
			shape = append(shape, ":major")
			continue
		}
		if _, isID := parseID(p); isID || (i > 0 && seg[i-1] == "webhooks") || (i > 1 && seg[i-2] == "webhooks") {
			p = ":id"
		}
		shape = append(shape, p)
	}
	sum := sha256.Sum256([]byte(strings.Join(shape, "/")))
	hash = hex.EncodeToString(sum[:8])
	return hash, hash + ":" + major
}

// take counts one request against its bucket and writes the bucket's
// headers; false means the bucket is exhausted and a 429 was written.
func (rl *rateLimiter) take(w http.ResponseWriter, method string, seg []string) bool {
	hash, key := bucketOf(method, seg)
	now := time.Now()
	rl.mu.Lock()
	b := rl.buckets[key]
	if b == nil || !now.Before(b.reset) {
		if len(rl.buckets) >= 4096 {
			// Windows of interaction webhooks (one per token) pile up.
			for k, old := range rl.buckets {
				if !now.Before(old.reset) {
					delete(rl.buckets, k)
				}
			}
		}
		b = &bucketWindow{reset: now.Add(rl.window)}
		rl.buckets[key] = b
	}
	over := b.used >= rl.limit
	if !over {
		b.used++
	}
	remaining, reset := rl.limit-b.used, b.reset
	rl.mu.Unlock()

	after := reset.Sub(now).Seconds()
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(rl.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(reset.UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(after, 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", hash)
	if !over {
		return true
	}
	h.Set("X-RateLimit-Scope", "user")
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(after))))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message": "You are being rate limited.", "retry_after": math.Round(after*1000) / 1000, "global": false})
	return false
}

// Package github reads public user profiles from GitHub's REST API for the
// harmy dialect's `github` field: a small client (client.go) and a cache
// that fetches off every request path (cache.go).
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is GitHub's REST API.
const DefaultBaseURL = "https://api.github.com"

// DefaultTimeout bounds one GitHub request, connection to last byte.
const DefaultTimeout = 5 * time.Second

// maxBody caps a profile response; GitHub's are about 1.5 KB.
const maxBody = 1 << 20

// defaultRateLimitWait is how long to back off after a rate-limit answer
// that names no reset time (GitHub's advice for secondary limits).
const defaultRateLimitWait = time.Minute

// maxRateLimitWait caps a back-off a response asks for, so a bogus header
// cannot silence GitHub for days.
const maxRateLimitWait = time.Hour

// Profile is the part of GitHub's public user object harmy serves.
// Nullable fields are pointers so null and "" stay as GitHub sent them.
type Profile struct {
	ID          int64   `json:"id"`
	Login       string  `json:"login"`
	AvatarURL   string  `json:"avatar_url"`
	HTMLURL     string  `json:"html_url"`
	Company     *string `json:"company"`
	Blog        *string `json:"blog"`
	Bio         *string `json:"bio"`
	PublicRepos int     `json:"public_repos"`
}

// ErrNotFound is GitHub's 404 for a login: no such (or a deleted) account.
var ErrNotFound = errors.New("github: no such user")

// RateLimitError is a 403 or 429 rate-limit answer; no request should be
// sent before Until.
type RateLimitError struct {
	Until time.Time
}

func (e *RateLimitError) Error() string {
	return "github: rate limited until " + e.Until.UTC().Format(time.RFC3339)
}

// StatusError is any other unexpected HTTP status.
type StatusError struct {
	Code int
}

func (e *StatusError) Error() string { return fmt.Sprintf("github: unexpected status %d", e.Code) }

// Config configures a Client.
type Config struct {
	// BaseURL is the API root; DefaultBaseURL when empty.
	BaseURL string
	// Token is an optional GitHub token (raises the rate limit from 60 to
	// 5,000 requests an hour); sent as "Authorization: Bearer".
	Token string
	// Timeout bounds one request; DefaultTimeout when zero.
	Timeout time.Duration
	// Transport is the HTTP transport; http.DefaultTransport when nil.
	Transport http.RoundTripper
	// Now returns the current time (tests may fix it); time.Now when nil.
	Now func() time.Time
}

// Client fetches user profiles from GitHub.
type Client struct {
	base  string
	token string
	http  *http.Client
	now   func() time.Time
}

// NewClient returns a client for cfg.
func NewClient(cfg Config) *Client {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{
		base:  strings.TrimRight(cfg.BaseURL, "/"),
		token: cfg.Token,
		http:  &http.Client{Timeout: cfg.Timeout, Transport: cfg.Transport},
		now:   cfg.Now,
	}
}

// UserResult is one answer for a login.
type UserResult struct {
	// Profile is the user; nil when NotModified.
	Profile *Profile
	// ETag identifies this version, for the next request's If-None-Match.
	ETag string
	// NotModified reports a 304: the profile of the given ETag is current.
	NotModified bool
	// RateLimitedUntil is set when this answer used up the rate limit
	// (X-RateLimit-Remaining: 0): send nothing more before it.
	RateLimitedUntil time.Time
}

// User fetches GET /users/{login}, revalidating with etag when it is set.
// It returns ErrNotFound for a 404, *RateLimitError for a rate-limit
// answer, *StatusError for other statuses and the transport's error (a
// timeout included) otherwise.
func (c *Client) User(ctx context.Context, login, etag string) (UserResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/users/"+url.PathEscape(login), nil)
	if err != nil {
		return UserResult{}, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "halyard")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return UserResult{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return UserResult{}, err
	}
	res := UserResult{ETag: resp.Header.Get("ETag")}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		res.RateLimitedUntil = c.resetTime(resp.Header)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var p Profile
		if err := json.Unmarshal(body, &p); err != nil || p.Login == "" {
			return UserResult{}, fmt.Errorf("github: malformed user object for %q", login)
		}
		res.Profile = &p
		return res, nil
	case resp.StatusCode == http.StatusNotModified:
		res.NotModified = true
		if res.ETag == "" {
			res.ETag = etag
		}
		return res, nil
	case resp.StatusCode == http.StatusNotFound:
		return res, ErrNotFound
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusForbidden && c.isRateLimit(resp.Header, body):
		return res, &RateLimitError{Until: c.rateLimitUntil(resp.Header)}
	}
	return res, &StatusError{Code: resp.StatusCode}
}

// isRateLimit tells a rate-limit 403 from other refusals: GitHub marks it
// with Retry-After, X-RateLimit-Remaining: 0 or a "rate limit" message.
func (c *Client) isRateLimit(h http.Header, body []byte) bool {
	return h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0" ||
		strings.Contains(strings.ToLower(string(body)), "rate limit")
}

// rateLimitUntil is when a rate-limited client may ask again: Retry-After
// first, then X-RateLimit-Reset, else a minute; at most an hour away.
func (c *Client) rateLimitUntil(h http.Header) time.Time {
	now := c.now()
	until := now.Add(defaultRateLimitWait)
	if s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After"))); err == nil && s >= 0 {
		until = now.Add(time.Duration(s) * time.Second)
	} else if h.Get("X-RateLimit-Remaining") == "0" {
		if t := c.resetTime(h); !t.IsZero() {
			until = t
		}
	}
	return earlier(until, now.Add(maxRateLimitWait))
}

// resetTime parses X-RateLimit-Reset (Unix seconds), capped an hour ahead;
// zero when absent or malformed.
func (c *Client) resetTime(h http.Header) time.Time {
	s, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}
	}
	now := c.now()
	return earlier(time.Unix(s, 0), now.Add(maxRateLimitWait))
}

// ValidLogin reports whether s is a syntactically valid GitHub login: 1 to
// 39 ASCII letters, digits and hyphens, no leading, trailing or double
// hyphen.
func ValidLogin(s string) bool {
	if len(s) == 0 || len(s) > 39 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// earlier returns the earlier of a and b.
func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

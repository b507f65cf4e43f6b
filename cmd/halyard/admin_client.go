package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Exit statuses of `halyard admin`, so scripts can tell failures apart.
const (
	adminExitOK           = 0
	adminExitFailed       = 1 // the node answered with another error, or the purge was not confirmed
	adminExitUsage        = 2 // bad command line, or no admin token
	adminExitUnreachable  = 3 // no answer from the node
	adminExitUnauthorized = 4 // the node refused the admin token
	adminExitNotFound     = 5 // the node holds nothing about the user
)

// adminClient calls a running node's admin API.
type adminClient struct {
	base  string // e.g. http://127.0.0.1:4001
	token string
	http  *http.Client
}

// adminCallError is a failed admin call, with the exit status it maps to.
type adminCallError struct {
	exit int
	msg  string
}

func (e *adminCallError) Error() string { return e.msg }

// exitCode is err's exit status.
func adminExitCode(err error) int {
	var ce *adminCallError
	if errors.As(err, &ce) {
		return ce.exit
	}
	return adminExitFailed
}

// call sends a request and decodes a JSON answer into out (unless nil or
// the answer has no body). Any status outside 2xx is an error carrying the
// admin error body's message.
func (c *adminClient) call(ctx context.Context, method, path string, query url.Values, out any) ([]byte, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, &adminCallError{adminExitUsage, fmt.Sprintf("bad --url %q: %v", c.base, err)}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &adminCallError{adminExitUnreachable, fmt.Sprintf("cannot reach the node at %s: %v", c.base, rootCause(err))}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, &adminCallError{adminExitUnreachable, fmt.Sprintf("reading the answer of %s: %v", c.base, err)}
	}
	if resp.StatusCode/100 != 2 {
		return nil, answerError(c.base, resp.StatusCode, body)
	}
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			return nil, &adminCallError{adminExitFailed, fmt.Sprintf("%s answered %s %s with something other than the admin API's JSON (is --url a Halyard node?): %v", c.base, method, path, err)}
		}
	}
	return body, nil
}

// answerError explains an error answer.
func answerError(base string, status int, body []byte) error {
	// The admin error body is {"error":{"code","message"}} and nothing
	// else; a dialect's 404 (a --url with a path) has other keys.
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	var keys map[string]json.RawMessage
	msg := strings.TrimSpace(string(body))
	adminBody := json.Unmarshal(body, &keys) == nil && len(keys) == 1 && keys["error"] != nil &&
		json.Unmarshal(body, &e) == nil && e.Error.Message != ""
	if adminBody {
		msg = e.Error.Message
	}
	switch status {
	case http.StatusUnauthorized:
		return &adminCallError{adminExitUnauthorized, fmt.Sprintf("the node at %s refused the admin token (401): check ADMIN_TOKEN or --token", base)}
	case http.StatusNotFound:
		if !adminBody || msg == http.StatusText(http.StatusNotFound) {
			// The route itself is missing: not a Halyard node's base URL,
			// or an older Halyard.
			return &adminCallError{adminExitNotFound, fmt.Sprintf("%s has no such admin route (404): is --url a Halyard node's base URL, with ADMIN_TOKEN set, as recent as this halyard?", base)}
		}
		return &adminCallError{adminExitNotFound, msg + " (404)"}
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return &adminCallError{adminExitFailed, fmt.Sprintf("%s (%d %s)", msg, status, http.StatusText(status))}
}

// rootCause drops url.Error's "Get \"…\":" wrapping, which repeats the URL.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// newAdminClient builds a client for base with the request timeout.
func newAdminClient(base, token string, timeout time.Duration) *adminClient {
	return &adminClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: timeout}}
}

// indentJSON re-indents a JSON answer for --json output.
func indentJSON(body []byte) []byte {
	var buf bytes.Buffer
	if json.Indent(&buf, body, "", "  ") != nil {
		return body
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

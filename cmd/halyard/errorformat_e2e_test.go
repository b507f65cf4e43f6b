package main

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// TestServerAnswersInDialectFormats: the answers the server writes itself
// (no route, a body over the cap) are in the format of the dialect owning
// the path, as each dialect declares it (moved here from server/, which no
// longer knows any dialect's format: docs/compat/cross-dialect.md, "Unknown
// routes"), all with the one JSON content type.
func TestServerAnswersInDialectFormats(t *testing.T) {
	m := startDemoWith(t, 1, nil)
	base := m.URL()
	send := func(method, path string, body []byte) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	const (
		lanyardNotFound = `{"success":false,"error":{"code":"not_found","message":"Route does not exist"}}`
		lanternNotFound = `{"error":"Resource not found."}`
		harmyNotFound   = `{"error":{"code":404,"message":"Not Found"}}`
		adminNotFound   = `{"error":{"code":"not_found","message":"Not Found"}}`
	)
	for path, want := range map[string]string{
		"/nope":        lanyardNotFound,
		"/v1/nope":     lanyardNotFound,
		"/api/v1/nope": lanternNotFound,
		"/user/x/y":    harmyNotFound,
		"/admin/nope":  adminNotFound,
	} {
		resp, body := send("GET", path, nil)
		if resp.StatusCode != 404 || body != want {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != server.JSONContentType {
			t.Errorf("%s: content-type %q", path, ct)
		}
	}
	big := bytes.Repeat([]byte("a"), core.MaxRequestBodySize+1)
	for path, want := range map[string]string{
		"/api/v1/users/1/storage/k": `{"error":"Request body too large."}`,
		"/v1/users/1/kv/k":          `{"success":false,"error":{"code":"payload_too_large","message":"request body must be 1048576 bytes or less"}}`,
		"/user/1":                   `{"error":{"code":413,"message":"request body must be 1048576 bytes or less"}}`,
	} {
		method := "PUT"
		if path == "/user/1" {
			method = "GET"
		}
		resp, body := send(method, path, big)
		if resp.StatusCode != 413 || body != want {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != server.JSONContentType {
			t.Errorf("%s 413: content-type %q", path, ct)
		}
	}
}

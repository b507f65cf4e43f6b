package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// Over-limit bodies answered while the client is still uploading (issue 13,
// item 4): a client that writes its body in 64 KiB chunks, as Node's
// http.request or a browser upload does, must be able to send all of it and
// then read the dialect's 413, not meet a reset.

// chunkedUpload is one upload: a request line and headers, then size bytes
// of body written 64 KiB at a time, declared by Content-Length or sent with
// chunked transfer encoding.
type chunkedUpload struct {
	method, path string
	header       map[string]string
	size         int
	chunked      bool
}

// uploadChunk is the client's write size.
const uploadChunk = 64 << 10

// send performs the upload on a fresh loopback connection and returns the
// response and its body; any write or read error (a reset) is returned.
func (u chunkedUpload) send(addr string) (*http.Response, []byte, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\n", u.method, u.path, addr)
	for k, v := range u.header {
		fmt.Fprintf(&head, "%s: %s\r\n", k, v)
	}
	if u.chunked {
		head.WriteString("Transfer-Encoding: chunked\r\n\r\n")
	} else {
		fmt.Fprintf(&head, "Content-Length: %d\r\n\r\n", u.size)
	}
	if _, err := conn.Write(head.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("writing the headers: %w", err)
	}
	chunk := bytes.Repeat([]byte("a"), uploadChunk)
	for sent := 0; sent < u.size; sent += uploadChunk {
		part := chunk[:min(uploadChunk, u.size-sent)]
		frame := part
		if u.chunked {
			frame = append(fmt.Appendf(nil, "%x\r\n", len(part)), append(part, "\r\n"...)...)
		}
		if _, err := conn.Write(frame); err != nil {
			return nil, nil, fmt.Errorf("writing the body at %d bytes: %w", sent, err)
		}
	}
	if u.chunked {
		if _, err := conn.Write([]byte("0\r\n\r\n")); err != nil {
			return nil, nil, fmt.Errorf("writing the last chunk: %w", err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the response: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp, body, fmt.Errorf("reading the response body: %w", err)
	}
	return resp, body, nil
}

// TestOverLimitBodyAnswered413WhileUploading: for every dialect's route that
// takes a body (and harmy's, which takes none, sent one), an 8 MiB upload
// in 64 KiB chunks, declared or chunked, is read through and answered with
// that dialect's 413 body, which the client reads whole.
func TestOverLimitBodyAnswered413WhileUploading(t *testing.T) {
	m := startDemoWith(t, 2, map[string]string{"HARMY_RATE_PER_SECOND": "0", "HARMY_RATE_PER_MINUTE": "0"})
	user := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[0]
	eventually(t, "member monitored", func() bool { return m.Hub.IsMonitored(user) })
	c := client{t, m.URL()}
	tok := issueToken(c, user)
	const (
		lanyard413 = `{"success":false,"error":{"code":"payload_too_large","message":"request body must be 1048576 bytes or less"}}` // Lanyard's key order
		lantern413 = `{"error":"Request body too large."}`
		harmy413   = `{"error":{"code":413,"message":"request body must be 1048576 bytes or less"}}`
	)
	lanyardAuth := map[string]string{"Authorization": tok}
	lanternAuth := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	routes := []struct {
		name, method, path string
		header             map[string]string
		want               string
	}{
		{"lanyard kv PUT", "PUT", "/v1/users/" + user + "/kv/big", lanyardAuth, lanyard413},
		{"lanyard kv PATCH", "PATCH", "/v1/users/" + user + "/kv", lanyardAuth, lanyard413},
		{"lantern storage PUT", "PUT", "/api/v1/users/" + user + "/storage/big", lanternAuth, lantern413},
		{"lantern storage PATCH", "PATCH", "/api/v1/users/" + user + "/storage/big", lanternAuth, lantern413},
		{"harmy user", "GET", "/user/" + user, nil, harmy413},
	}
	addr := m.Server.Addr()
	for _, r := range routes {
		for _, chunked := range []bool{false, true} {
			if chunked && r.method == "GET" {
				continue // a route that reads no body only sees a declared length
			}
			name := r.name + map[bool]string{false: " declared", true: " chunked"}[chunked]
			t.Run(name, func(t *testing.T) {
				up := chunkedUpload{method: r.method, path: r.path, header: r.header, size: 8 << 20, chunked: chunked}
				resp, body, err := up.send(addr)
				if err != nil {
					t.Fatalf("the client did not get its answer: %v", err)
				}
				if resp.StatusCode != http.StatusRequestEntityTooLarge || string(body) != r.want {
					t.Fatalf("%d %s, want 413 %s", resp.StatusCode, body, r.want)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
					t.Fatalf("Content-Type %q", ct)
				}
			})
		}
	}
	if code, body := c.do("GET", "/v1/users/"+user, "", nil); code != 200 || bytes.Contains(body, []byte(`"big"`)) {
		t.Fatalf("after the uploads: %d %s", code, body)
	}
}

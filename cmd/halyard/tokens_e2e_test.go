package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is the server's log output, written by many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startDemoLogged runs the demo wiring with debug logs captured.
func startDemoLogged(t *testing.T, users int, format string) (*Main, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	m := NewMain()
	m.Stdout, m.Stderr = io.Discard, logs
	args := []string{"--demo", "--demo-users", fmt.Sprint(users), "--demo-churn", "0",
		"--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "debug"}
	env := map[string]string{"ADMIN_TOKEN": "test-admin-token", "LOG_FORMAT": format,
		"HARMY_RATE_PER_SECOND": "0", "HARMY_RATE_PER_MINUTE": "0"}
	if err := m.ParseFlags(args, env); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, logs
}

// issueToken issues a token for user through the admin API.
func issueToken(c client, user string) string {
	c.t.Helper()
	code, body := c.do("POST", "/admin/v1/users/"+user+"/token", e2eAdmin, nil)
	var tok struct{ Token string }
	if code != 200 || json.Unmarshal(body, &tok) != nil || tok.Token == "" {
		c.t.Fatalf("token for %s: %d %s", user, code, body)
	}
	return tok.Token
}

// writeAttempt is one KV write in one dialect, with the token it carries.
type writeAttempt struct {
	name                     string
	method, path, ctype, bod string
}

// kvWrites are every token-guarded KV write of every dialect against
// user's pair key (harmy's KV is written only by its bot commands).
func kvWrites(user, key string) []writeAttempt {
	return []writeAttempt{
		{"lanyard PUT", "PUT", "/v1/users/" + user + "/kv/" + key, "", "x"},
		{"lanyard PATCH", "PATCH", "/v1/users/" + user + "/kv", "application/json", `{"` + key + `":"x"}`},
		{"lanyard DELETE", "DELETE", "/v1/users/" + user + "/kv/" + key, "", ""},
		{"lantern PUT", "PUT", "/api/v1/users/" + user + "/storage/" + strings.ReplaceAll(key, "_", ""), "application/json", `{"value":"x"}`},
		{"lantern PATCH", "PATCH", "/api/v1/users/" + user + "/storage/" + strings.ReplaceAll(key, "_", ""), "application/json", `{"value":"x"}`},
		{"lantern DELETE key", "DELETE", "/api/v1/users/" + user + "/storage/" + strings.ReplaceAll(key, "_", ""), "", ""},
		{"lantern DELETE all", "DELETE", "/api/v1/users/" + user + "/storage", "", ""},
	}
}

// TestTokensNeverLogged: a token issued by the admin API and the bot
// (Lanyard .apikey, harmy .token), used in every dialect (bare and
// Bearer), used against the wrong user and sent mangled, never appears in
// the server's logs (debug level, text and JSON) nor in any error body.
func TestTokensNeverLogged(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			m, logs := startDemoLogged(t, 6, format)
			c := client{t, m.URL()}
			ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
			a, b := ids[0], ids[1]
			eventually(t, "members monitored", func() bool { return m.Hub.IsMonitored(a) && m.Hub.IsMonitored(b) })

			tokA := issueToken(c, a)
			chatB := botChat{t: t, m: m, c: c, user: b}
			tokB := chatB.apikey()
			r := chatB.dm(".token")
			tokB2 := harmyToken.FindStringSubmatch(r.Content)
			if tokB2 == nil {
				t.Fatalf(".token reply: %+v", r)
			}
			secrets := []string{tokA, tokB, tokB2[1], "test-admin-token"}

			var bodies [][]byte
			use := func(method, path, auth, ctype, body string) int {
				code, resp := c.doType(method, path, auth, ctype, body)
				if code >= 300 {
					bodies = append(bodies, resp)
				}
				return code
			}
			for _, auth := range []string{tokA, "Bearer " + tokA} {
				use("PUT", "/api/v1/users/"+a+"/storage/k", auth, "application/json", `{"value":"v"}`)
				use("GET", "/user/"+a, auth, "", "")
			}
			use("PUT", "/v1/users/"+a+"/kv/k", tokA, "", "v")
			use("PATCH", "/v1/users/@me/kv", tokA, "application/json", `{"k2":"v"}`)
			// Failed uses: the wrong user's token, mangled tokens, an admin
			// token that is wrong.
			for _, auth := range []string{tokB2[1], tokA + "x", strings.ToUpper(tokA), "Bearer  " + tokA, tokA[:len(tokA)-1]} {
				for _, w := range kvWrites(a, "k") {
					use(w.method, w.path, auth, w.ctype, w.bod)
				}
				use("GET", "/user/"+a, auth, "", "")
			}
			use("GET", "/admin/v1/users", "Bearer test-admin-tokenx", "", "")
			use("POST", "/admin/v1/users/"+a+"/token", "test-admin-token", "", "")
			// A token sent in the path or the query is not a credential but
			// must not be logged either.
			use("GET", "/v1/users/"+a+"?token="+tokA, "", "", "")
			use("PUT", "/v1/users/"+a+"/kv/"+tokA[5:], "Bearer "+tokA, "", "v")

			if len(bodies) < 20 {
				t.Fatalf("only %d failed uses answered", len(bodies))
			}
			for _, body := range bodies {
				for _, s := range secrets {
					if bytes.Contains(body, []byte(s)) {
						t.Fatalf("error body holds a token: %s", body)
					}
				}
			}
			// The request log is written after the answer; give it a moment
			// by waiting for the last request's line.
			eventually(t, "request logs written", func() bool { return strings.Contains(logs.String(), "/admin/v1/users") })
			out := logs.String()
			for _, s := range secrets {
				if strings.Contains(out, s) {
					i := strings.Index(out, s)
					t.Fatalf("the logs hold a token: …%s…", out[max(0, i-200):min(len(out), i+len(s)+50)])
				}
			}
			t.Logf("%s: %d log bytes and %d error bodies checked for %d secrets", format, len(out), len(bodies), len(secrets))
		})
	}
}

// TestTokensStayWithTheirUser: user a's token (bare and Bearer) never
// writes user b's KV in any dialect, never reads b's private KV (harmy),
// and a's bot commands only ever touch a's own pairs; b's pairs are the
// same afterwards.
func TestTokensStayWithTheirUser(t *testing.T) {
	m, _ := startDemoLogged(t, 6, "text")
	c := client{t, m.URL()}
	ids := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])
	a, b := ids[2], ids[3]
	eventually(t, "members monitored", func() bool { return m.Hub.IsMonitored(a) && m.Hub.IsMonitored(b) })
	tokA := issueToken(c, a)
	tokB := issueToken(c, b)
	if code, body := c.do("PATCH", "/v1/users/"+b+"/kv", tokB, []byte(`{"secret":"b","k":"b","other":"b"}`)); code != 204 {
		t.Fatalf("b's own PATCH: %d %s", code, body)
	}
	want := m.Hub.KV(b).Clone()

	tried := 0
	for _, auth := range []string{tokA, "Bearer " + tokA} {
		for _, key := range []string{"secret", "k"} {
			for _, w := range kvWrites(b, key) {
				code, body := c.doType(w.method, w.path, auth, w.ctype, w.bod)
				tried++
				if code != http.StatusUnauthorized {
					t.Errorf("%s on b with a's token %q: %d %s", w.name, auth[:6], code, body)
				}
			}
		}
		// harmy serves KV only to its owner.
		code, body := harmyGet(c, "/user/"+b, auth)
		if code != http.StatusUnauthorized || bytes.Contains(body, []byte(`"secret"`)) {
			t.Errorf("harmy /user/b with a's token: %d %s", code, body)
		}
	}
	// Lanyard's @me is the token's owner, never the path's.
	if code, _ := c.do("PUT", "/v1/users/@me/kv/secret", tokA, []byte("a")); code != http.StatusNoContent {
		t.Errorf("a's PUT on @me: %d", code)
	}
	// a's bot commands act on a only.
	chatA := botChat{t: t, m: m, c: c, user: a}
	for _, cmd := range []string{".del secret", ".set k a", ".del other", ".add other a", ".set " + b + " a"} {
		chatA.dm(cmd)
		tried++
	}
	lanternSlash(t, m, m.Sim.GuildIDs()[0], a, `[{"name":"reset","type":1,"options":[{"name":"confirm","type":5,"value":true}]}]`)
	tried++
	if got := m.Hub.KV(b); !got.Equal(want) {
		t.Fatalf("b's KV changed: %v, want %v", got, want)
	}
	if got := m.Hub.KV(a); got.Value("secret") != "" && got.Value("secret") != "a" {
		t.Fatalf("a's KV: %v", got)
	}
	t.Logf("%d cross-user attempts refused; b's %d pairs unchanged", tried, want.Len())
}

// TestTokenRevocationIsImmediate: a rotated token (re-issued by the admin
// API, by Lanyard's .apikey or harmy's .token) and a revoked one stop
// working in every dialect on the very next request, and the new token
// works.
func TestTokenRevocationIsImmediate(t *testing.T) {
	m, _ := startDemoLogged(t, 6, "text")
	c := client{t, m.URL()}
	user := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[4]
	eventually(t, "member monitored", func() bool { return m.Hub.IsMonitored(user) })
	chat := botChat{t: t, m: m, c: c, user: user}

	works := func(tok string) bool {
		ok := 0
		for _, w := range kvWrites(user, "k")[:2] { // the two Lanyard writes that set a pair
			if code, _ := c.doType(w.method, w.path, tok, w.ctype, w.bod); code == http.StatusNoContent {
				ok++
			}
		}
		if code, _ := c.doType("PUT", "/api/v1/users/"+user+"/storage/k", "Bearer "+tok, "application/json", `{"value":"v"}`); code == 200 {
			ok++
		}
		if code, _ := harmyGet(c, "/user/"+user, tok); code == 200 {
			ok++
		}
		switch ok {
		case 0:
			return false
		case 4:
			return true
		}
		t.Fatalf("token works in %d of 4 places", ok)
		return false
	}

	old := issueToken(c, user)
	if !works(old) {
		t.Fatal("fresh admin token refused")
	}
	rotations := []func() string{
		func() string { return issueToken(c, user) },
		chat.apikey,
		func() string {
			r := chat.dm(".token")
			tok := harmyToken.FindStringSubmatch(r.Content)
			if tok == nil {
				t.Fatalf(".token reply: %+v", r)
			}
			return tok[1]
		},
	}
	for i, rotate := range rotations {
		next := rotate()
		if works(old) {
			t.Fatalf("rotation %d: the old token still works", i)
		}
		if !works(next) {
			t.Fatalf("rotation %d: the new token is refused", i)
		}
		old = next
	}
	if code, _ := c.do("DELETE", "/admin/v1/users/"+user+"/token", e2eAdmin, nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	if works(old) {
		t.Fatal("the revoked token still works")
	}
}

// TestTokenComparisonIsConstantTime checks the code path, since a test
// cannot prove timing: Tokens.Verify looks the keyed BLAKE2b hash up (an
// attacker cannot aim at a hash they cannot compute without the secret)
// and compares it with subtle.ConstantTimeCompare, and the admin API
// compares its bearer token with subtle.ConstantTimeCompare; neither uses
// ==, bytes.Equal or strings.EqualFold on the secret.
func TestTokenComparisonIsConstantTime(t *testing.T) {
	for _, c := range []struct{ file, fn string }{
		{"../../core/token.go", "Verify"},
		{"../../server/admin.go", "requireAdmin"},
	} {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, c.file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		var body *ast.BlockStmt
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == c.fn {
				body = fd.Body
			}
		}
		if body == nil {
			t.Fatalf("%s: no func %s", c.file, c.fn)
		}
		constant := false
		ast.Inspect(body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok {
						switch x.Name + "." + sel.Sel.Name {
						case "subtle.ConstantTimeCompare", "hmac.Equal":
							constant = true
						case "bytes.Equal", "strings.EqualFold", "bytes.Compare", "strings.Compare":
							t.Errorf("%s %s compares with %s.%s at %v", c.file, c.fn, x.Name, sel.Sel.Name, fset.Position(n.Pos()))
						}
					}
				}
			case *ast.BinaryExpr:
				// Comparing the secret or its hash with == would leak its
				// prefix length through timing.
				if n.Op == token.EQL || n.Op == token.NEQ {
					for _, side := range []ast.Expr{n.X, n.Y} {
						if id, ok := side.(*ast.Ident); ok && (id.Name == "hash" || id.Name == "stored" || id.Name == "got" || id.Name == "want") {
							t.Errorf("%s %s compares %s with %s at %v", c.file, c.fn, id.Name, n.Op, fset.Position(n.Pos()))
						}
					}
				}
			}
			return true
		})
		if !constant {
			t.Errorf("%s %s does not use subtle.ConstantTimeCompare", c.file, c.fn)
		}
	}
}

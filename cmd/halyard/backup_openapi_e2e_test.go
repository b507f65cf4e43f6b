package main

import (
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
)

func init() {
	// Backups are opaque gzip to the document (type: string).
	openapi3filter.RegisterBodyDecoder("application/gzip", openapi3filter.FileBodyDecoder)
}

// TestOpenAPIBackupRoutes: the backup and restore routes answer as the
// OpenAPI document says, success and error cases.
func TestOpenAPIBackupRoutes(t *testing.T) {
	m := startBackupDemo(t, t.TempDir(), 5)
	a := newAPIChecker(t, m.URL())
	c := client{t, m.URL()}
	admin := map[string]string{"Authorization": "Bearer test-admin-token"}
	id := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[0]
	eventually(t, "user monitored", func() bool { return m.Hub.IsMonitored(id) })
	tok := issueToken(c, id)
	if code, b := c.do("PUT", "/v1/users/"+id+"/kv/k", tok, []byte("v")); code != 204 {
		t.Fatalf("PUT: %d %s", code, b)
	}

	file := a.do(req{method: "GET", path: "/admin/v1/backup", header: admin, status: 200})
	a.do(req{method: "GET", path: "/admin/v1/backup", status: 401})
	gz := map[string]string{"Authorization": "Bearer test-admin-token", "Content-Type": "application/gzip"}
	a.do(req{method: "POST", path: "/admin/v1/restore?dry_run=true", header: gz, body: file, status: 200})
	a.do(req{method: "POST", path: "/admin/v1/restore", header: gz, body: file, status: 200})
	a.do(req{method: "POST", path: "/admin/v1/restore?skip_tokens=true", header: gz, body: file, status: 200})
	a.do(req{method: "POST", path: "/admin/v1/restore", header: gz, body: file[:len(file)/2], status: 400})
	a.do(req{method: "POST", path: "/admin/v1/restore", header: gz, body: []byte("not a backup"), status: 400})
	a.do(req{method: "POST", path: "/admin/v1/restore", body: file, status: 401})
	// The 413 (server/admin_backup_test.go) is the admin API's usual body.
}

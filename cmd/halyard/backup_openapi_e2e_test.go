package main

import (
	"github.com/getkin/kin-openapi/openapi3filter"
)

func init() {
	// Backups are opaque gzip to the document (type: string).
	openapi3filter.RegisterBodyDecoder("application/gzip", openapi3filter.FileBodyDecoder)
}

// driveBackupRoutes drives the backup and restore routes for
// TestOpenAPILiveResponses, success and error cases. Restoring the node's
// own backup changes nothing, so the rest of that test is undisturbed.
func driveBackupRoutes(a *apiChecker, admin map[string]string) {
	a.t.Helper()
	file := a.do(req{method: "GET", path: "/admin/v1/backup", header: admin, status: 200})
	a.do(req{method: "GET", path: "/admin/v1/backup", status: 401})
	gz := map[string]string{"Content-Type": "application/gzip"}
	for k, v := range admin {
		gz[k] = v
	}
	a.do(req{method: "POST", path: "/admin/v1/restore?dry_run=true", header: gz, body: file, status: 200})
	a.do(req{method: "POST", path: "/admin/v1/restore", header: gz, body: file, status: 200})
	a.do(req{method: "POST", path: "/admin/v1/restore?skip_tokens=true", header: gz, body: file, status: 200})
	a.do(req{method: "POST", path: "/admin/v1/restore", header: gz, body: file[:len(file)/2], status: 400})
	a.do(req{method: "POST", path: "/admin/v1/restore", header: gz, body: []byte("not a backup"), status: 400})
	a.do(req{method: "POST", path: "/admin/v1/restore?dry_run=maybe", header: gz, body: file, status: 400})
	a.do(req{method: "POST", path: "/admin/v1/restore", body: file, status: 401})
	// The 413 (server/admin_backup_test.go) is the admin API's usual body.
}

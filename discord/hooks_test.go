package discord

import (
	"os"
	"os/exec"
	"testing"

	"github.com/diamondburned/arikawa/v3/gateway"
	ajson "github.com/diamondburned/arikawa/v3/utils/json"
	"github.com/diamondburned/arikawa/v3/utils/ws"

	"github.com/halyardhq/halyard/core"
)

// arikawaHooked reports whether arikawa's process-wide JSON driver and its
// GUILD_CREATE decoder are Halyard's.
func arikawaHooked() (driver, decoders bool) {
	_, driver = ajson.Default.(frameDriver)
	if fn := gateway.OpUnmarshalers.Lookup(0, "GUILD_CREATE"); fn != nil {
		_, decoders = fn().(*rawGuildCreate)
	}
	return driver, decoders
}

// TestNoHooksAtImport: importing the package leaves arikawa as it is; the
// first New installs the hooks. The check runs in a child process of this
// test binary that runs only this test, so no other test has built a bot.
func TestNoHooksAtImport(t *testing.T) {
	if os.Getenv("HALYARD_HOOKS_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNoHooksAtImport$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "HALYARD_HOOKS_CHILD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}
	if d, e := arikawaHooked(); d || e {
		t.Fatalf("arikawa hooked at import: driver %v, decoders %v", d, e)
	}
	if ws.WSError == nil {
		t.Fatal("arikawa has no connection error log at all")
	}
	hub := core.NewHub(core.HubOptions{})
	if _, err := New(Config{Token: "x", Hub: hub}); err != nil { // nothing connects before Open
		t.Fatal(err)
	}
	if d, e := arikawaHooked(); !d || !e {
		t.Fatalf("after New: driver %v, decoders %v", d, e)
	}
}

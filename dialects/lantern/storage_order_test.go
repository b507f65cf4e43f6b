package lantern

import (
	"bytes"
	"context"
	"testing"

	"github.com/halyardhq/halyard/storage"
)

// orderedWrites writes c, a, b and then overwrites a: Lantern returns the
// keys in the order they were first written, so a keeps its place.
var orderedWrites = [][2]string{{"c", "3"}, {"a", "1"}, {"b", "2"}, {"a", "1b"}}

const orderedStorage = `{"c":"3","a":"1b","b":"2"}`

// TestStorageInsertionOrder: the storage object, the user object and the
// socket frames render storage in insertion order, and a restart on the
// same embedded store keeps it.
func TestStorageInsertionOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded database")
	}
	dir := t.TempDir()
	open := func() *storage.Store { return openEmbedded(t, dir) }
	st := open()
	s := newTestServer(t, st)
	s.simpleMember(idA)
	tok, _ := s.tokens.Issue(context.Background(), idA)
	h := []string{"Authorization", tok, "Content-Type", jsonType}
	for _, w := range orderedWrites {
		if r := s.do("PUT", storageA+"/"+w[0], `{"value":"`+w[1]+`"}`, h...); r.status != 200 {
			t.Fatalf("PUT %s: %d %s", w[0], r.status, r.body)
		}
	}
	checkOrder := func(s *testServer, when string) {
		t.Helper()
		if r := s.do("GET", storageA, ""); string(r.body) != orderedStorage {
			t.Fatalf("%s: storage %s, want %s", when, r.body, orderedStorage)
		}
		if r := s.do("GET", "/api/v1/users/"+idA, ""); !bytes.Contains(r.body, []byte(`"storage":`+orderedStorage)) {
			t.Fatalf("%s: user object %s, want storage %s", when, r.body, orderedStorage)
		}
	}
	checkOrder(s, "before restart")
	s.hub.Close()
	st.Close()

	st2 := open()
	defer st2.Close()
	s2 := newTestServer(t, st2)
	s2.simpleMember(idA)
	checkOrder(s2, "after restart")
}

// TestSocketStorageInsertionOrder: STORAGE_UPDATE and INIT_ACK carry the
// storage in insertion order.
func TestSocketStorageInsertionOrder(t *testing.T) {
	e := newSockEnv(t, SocketOptions{})
	c := e.dial("/lantern/socket")
	c.send(`{"op":2,"d":{"user_id":"` + sockA + `"}}`)
	c.expect("INIT_ACK")
	var last sockFrame
	for _, w := range orderedWrites {
		if err := e.hub.PutKV(t.Context(), sockA, w[0], w[1]); err != nil {
			t.Fatal(err)
		}
		last = c.expect("STORAGE_UPDATE")
	}
	if !bytes.Contains(last.D, []byte(`"storage":`+orderedStorage)) {
		t.Fatalf("STORAGE_UPDATE %s, want storage %s", last.D, orderedStorage)
	}
	again := e.dial("/lantern/socket")
	again.send(`{"op":2,"d":{"user_id":"` + sockA + `"}}`)
	if f := again.expect("INIT_ACK"); !bytes.Contains(f.D, []byte(`"storage":`+orderedStorage)) {
		t.Fatalf("INIT_ACK %s, want storage %s", f.D, orderedStorage)
	}
}

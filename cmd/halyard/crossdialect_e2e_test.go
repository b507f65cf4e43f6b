package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// TestOneStoreEveryDialect: one user, one token, one KV store. A pair
// written through any dialect is read back through the other two, and the
// token works bare in Lanyard and bare or Bearer in Lantern and harmy
// (docs/compat/cross-dialect.md §3).
func TestOneStoreEveryDialect(t *testing.T) {
	m := startDemo(t, t.TempDir(), 10)
	defer m.Close()
	c := client{t, m.URL()}
	owner := m.Sim.MemberIDs(m.Sim.GuildIDs()[0])[2]
	eventually(t, "owner monitored", func() bool { return m.Hub.IsMonitored(owner) })

	code, body := c.do("POST", "/admin/v1/users/"+owner+"/token", e2eAdmin, nil)
	var tok struct{ Token string }
	if code != 200 || json.Unmarshal(body, &tok) != nil {
		t.Fatalf("token: %d %s", code, body)
	}

	// Lanyard writes, bare key.
	if code, b := c.do("PUT", "/v1/users/"+owner+"/kv/from_lanyard", tok.Token, []byte("L")); code != http.StatusNoContent {
		t.Fatalf("lanyard PUT: %d %s", code, b)
	}
	// Lantern writes, Bearer token.
	req, _ := http.NewRequest("PUT", c.base+"/api/v1/users/"+owner+"/storage/fromLantern", bytes.NewReader([]byte(`{"value":"N"}`)))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("lantern PUT: %d", resp.StatusCode)
	}
	// harmy writes through its bot command.
	chat := botChat{t: t, m: m, c: c, user: owner}
	chat.dm(".add fromHarmy H")

	want := map[string]string{"from_lanyard": "L", "fromLantern": "N", "fromHarmy": "H"}
	eventually(t, "every pair in every dialect", func() bool {
		var lanyard struct {
			Data struct{ KV map[string]string } `json:"data"`
		}
		_, b := c.do("GET", "/v1/users/"+owner, "", nil)
		if json.Unmarshal(b, &lanyard) != nil || !sameKV(lanyard.Data.KV, want) {
			return false
		}
		var lantern map[string]string
		_, b = c.do("GET", "/api/v1/users/"+owner+"/storage", "", nil)
		if json.Unmarshal(b, &lantern) != nil || !sameKV(lantern, want) {
			return false
		}
		var harmy struct {
			KV map[string]string `json:"KV"`
		}
		_, b = harmyGet(c, "/user/"+owner, tok.Token)
		return json.Unmarshal(b, &harmy) == nil && sameKV(harmy.KV, want)
	})

	// Revoking the token stops it everywhere at once.
	if code, _ := c.do("DELETE", "/admin/v1/users/"+owner+"/token", e2eAdmin, nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	if code, _ := c.do("PUT", "/v1/users/"+owner+"/kv/x", tok.Token, []byte("y")); code != http.StatusUnauthorized {
		t.Fatalf("lanyard after revoke: %d", code)
	}
	if code, _ := harmyGet(c, "/user/"+owner, tok.Token); code != http.StatusUnauthorized {
		t.Fatalf("harmy after revoke: %d", code)
	}
}

func sameKV(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

package core

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestKVInsertionOrder(t *testing.T) {
	var kv KV
	kv.Set("c", "3")
	kv.Set("a", "1")
	kv.Set("b", "2")
	kv.Set("a", "1b") // overwriting keeps the place
	if got := kv.Keys(); !slices.Equal(got, []string{"c", "a", "b"}) {
		t.Fatalf("keys %v", got)
	}
	if got := kv.SortedKeys(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("sorted keys %v", got)
	}
	if v, ok := kv.Get("a"); !ok || v != "1b" || kv.Value("nope") != "" || kv.Has("nope") {
		t.Fatalf("get a = %q %v", v, ok)
	}
	kv.Delete("c")
	kv.Delete("absent")
	kv.Set("c", "again") // a key deleted and written again goes last
	if got := kv.String(); got != `{"a":"1b","b":"2","c":"again"}` {
		t.Fatalf("after delete and re-add: %s", got)
	}
	var pairs []string
	for k, v := range kv.All() {
		pairs = append(pairs, k+"="+v)
		break // All stops when asked
	}
	if !slices.Equal(pairs, []string{"a=1b"}) {
		t.Fatalf("All yielded %v", pairs)
	}
}

func TestKVCloneIsIndependent(t *testing.T) {
	orig := KVOf("x", "1", "y", "2")
	c := orig.Clone()
	c.Set("x", "changed")
	c.Set("z", "3")
	c.Delete("y")
	if orig.String() != `{"x":"1","y":"2"}` || c.String() != `{"x":"changed","z":"3"}` {
		t.Fatalf("orig %s clone %s", orig, c)
	}
	if !orig.Equal(KVOf("x", "1", "y", "2")) || orig.Equal(KVOf("y", "2", "x", "1")) {
		t.Fatal("Equal must compare pairs and their order")
	}
	var zero KV
	if zero.Len() != 0 || !zero.Equal(KV{}) || zero.Clone().Len() != 0 || zero.String() != "{}" {
		t.Fatal("zero KV is not empty")
	}
}

func TestKVJSONKeepsDocumentOrder(t *testing.T) {
	var kv KV
	if err := json.Unmarshal([]byte(` {"z":"1","a":"<&>","m":"","a":"2"} `), &kv); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(kv)
	if err != nil {
		t.Fatal(err)
	}
	// A key given twice keeps its first place and its last value.
	if string(out) != `{"z":"1","a":"2","m":""}` {
		t.Fatalf("round trip %s", out)
	}
	for _, bad := range []string{`[]`, `{"a":1}`, `{"a":null}`, `{"a":{"b":"c"}}`, `"s"`, `{"a":"b"`} {
		if err := json.Unmarshal([]byte(bad), &kv); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestHubKVWritesKeepOrder(t *testing.T) {
	h := openHub(t)
	ctx := t.Context()
	h.UpsertMember("g", Member{User: testUser("7")})
	for _, w := range [][2]string{{"c", "3"}, {"a", "1"}, {"b", "2"}, {"a", "1b"}} {
		if err := h.PutKV(ctx, "7", w[0], w[1]); err != nil {
			t.Fatal(err)
		}
	}
	// A patch overwrites in place and appends new keys in its own order.
	if err := h.PatchKV(ctx, "7", KVOf("z", "26", "b", "2b", "d", "4")); err != nil {
		t.Fatal(err)
	}
	if got := h.KV("7").String(); got != `{"c":"3","a":"1b","b":"2b","z":"26","d":"4"}` {
		t.Fatalf("after writes: %s", got)
	}
	if err := h.DeleteKV(ctx, "7", "a"); err != nil {
		t.Fatal(err)
	}
	if got := h.KV("7").Keys(); !slices.Equal(got, []string{"c", "b", "z", "d"}) {
		t.Fatalf("after delete: %v", got)
	}
}

package core

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"reflect"
	"testing"
)

func TestDecodeActivityHostile(t *testing.T) {
	raw := `{"id":"ec0b28a579ecb4bd","name":"Visual Studio Code","type":"0","application_id":383226320970055681,` +
		`"created_at":"1767265200000","timestamps":{"start":1767265200000.0,"end":"1767269003000"},` +
		`"emoji":{"name":"go","id":565944799887179808,"animated":"true"},` +
		`"assets":{"large_image":"mp:external/abc","large_text":"Go","small_image":565944799887179808},` +
		`"party":{"id":"spotify:1"},"buttons":["View Repository",{"label":"Docs","url":"x"}],"flags":48.0,` +
		`"details":{"bad":"type"},"future_field":{"nested":[1,2]}}`
	a, ok := DecodeActivity(json.RawMessage(raw))
	if !ok {
		t.Fatal("activity rejected")
	}
	if a.CreatedAt != 1767265200000 || a.Start != 1767265200000 || a.End != 1767269003000 || a.Flags != 48 {
		t.Errorf("numbers: %+v", a)
	}
	if a.Type != 0 || a.Name != "Visual Studio Code" || a.Details != "" || a.LargeText != "Go" || a.PartyID != "spotify:1" {
		t.Errorf("strings: %+v", a)
	}
	if a.ApplicationID != "383226320970055681" || a.Emoji == nil || a.Emoji.ID != "565944799887179808" || !a.Emoji.Animated {
		t.Errorf("ids: %+v %+v", a, a.Emoji)
	}
	if !reflect.DeepEqual(a.Buttons, []string{"View Repository", "Docs"}) {
		t.Errorf("buttons %q", a.Buttons)
	}
	// Raw keeps everything, in order, with the two ids as strings.
	want := `{"id":"ec0b28a579ecb4bd","name":"Visual Studio Code","type":"0","application_id":"383226320970055681",` +
		`"created_at":"1767265200000","timestamps":{"start":1767265200000.0,"end":"1767269003000"},` +
		`"emoji":{"name":"go","id":"565944799887179808","animated":"true"},` +
		`"assets":{"large_image":"mp:external/abc","large_text":"Go","small_image":565944799887179808},` +
		`"party":{"id":"spotify:1"},"buttons":["View Repository",{"label":"Docs","url":"x"}],"flags":48.0,` +
		`"details":{"bad":"type"},"future_field":{"nested":[1,2]}}`
	if string(a.JSON()) != want {
		t.Errorf("raw\n got %s\nwant %s", a.JSON(), want)
	}
}

func TestDecodeActivityVerbatim(t *testing.T) {
	raw := `{"id":"spotify:1","name":"Spotify","type":2,"flags":48,"created_at":1767268800000,"sync_id":"4cOd",` +
		`"party":{"id":"spotify:13"},"timestamps":{"start":1,"end":2},"assets":{"large_image":"spotify:ab","large_text":"Album"}}`
	a, ok := DecodeActivity(json.RawMessage(raw))
	if !ok || string(a.JSON()) != raw {
		t.Fatalf("raw changed: %s", a.JSON())
	}
	if a.SyncID != "4cOd" || a.LargeImage != "spotify:ab" || a.Start != 1 || a.End != 2 || a.Type != 2 {
		t.Errorf("%+v", a)
	}
	for _, bad := range []string{`"x"`, `[]`, `12`, `null`} {
		if _, ok := DecodeActivity(json.RawMessage(bad)); ok {
			t.Errorf("%s accepted as an activity", bad)
		}
	}
	// Missing everything is still an activity.
	if a, ok := DecodeActivity(json.RawMessage(`{}`)); !ok || a.Name != "" || a.CreatedAt != 0 {
		t.Errorf("{} -> %+v %v", a, ok)
	}
}

// TestPackedActivitiesDecode: activities kept packed only (the decoder's
// way) read back with the same fields and the same JSON as parsed from the
// payload, normalised the same way, and compare by their JSON.
func TestPackedActivitiesDecode(t *testing.T) {
	raws := []string{
		`{"id":"ec0b","name":"Visual Studio Code","type":"0","application_id":383226320970055681,` +
			`"emoji":{"name":"go","id":565944799887179808,"animated":"true"},"buttons":["a",{"label":"b"}],"flags":48.0}`,
		`{"id":"spotify:1","name":"Spotify","type":2,"sync_id":"4cOd","party":{"id":"spotify:13"},` +
			`"timestamps":{"start":1,"end":2},"assets":{"large_image":"spotify:ab","large_text":"Alb\u00fcm \"x\""}}`,
		`{}`,
	}
	var norm [][]byte
	var want []Activity
	for _, raw := range raws {
		a, ok := DecodeActivity(json.RawMessage(raw))
		n, nok := NormalizeActivity(json.RawMessage(raw))
		if !ok || !nok || string(n) != string(a.JSON()) {
			t.Fatalf("NormalizeActivity(%s) = %s, %v; DecodeActivity kept %s, %v", raw, n, nok, a.JSON(), ok)
		}
		norm = append(norm, n)
		want = append(want, a)
	}
	p := PackActivities(norm)
	if p.Len() != len(raws) {
		t.Fatalf("%d packed activities, want %d", p.Len(), len(raws))
	}
	got := p.Decode()
	for i := range got {
		if string(got[i].JSON()) != string(want[i].JSON()) {
			t.Errorf("activity %d JSON %s, want %s", i, got[i].JSON(), want[i].JSON())
		}
		g, w := got[i], want[i]
		g.Raw, g.Packed, w.Raw, w.Packed = nil, PackedJSON{}, nil, PackedJSON{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("activity %d fields %+v, want %+v", i, g, w)
		}
	}
	hand := &Presence{Activities: want}
	packed := &Presence{Packed: p}
	if !packed.Equal(hand) || !hand.Equal(packed) || !packed.Equal(&Presence{Packed: PackActivities(norm)}) {
		t.Error("packed and hand-built presences with the same activities differ")
	}
	if packed.Equal(&Presence{Packed: PackActivities(norm[:2])}) || packed.Equal(&Presence{}) {
		t.Error("presences with different activities are equal")
	}
	for _, bad := range []string{`"x"`, `[]`, `{"a":}`} {
		if _, ok := NormalizeActivity(json.RawMessage(bad)); ok {
			t.Errorf("NormalizeActivity accepted %s", bad)
		}
	}
}

// TestPackedActivitiesGob: a presence with packed activities crosses a
// gob stream (the cluster's wire) with its activities' JSON intact.
func TestPackedActivitiesGob(t *testing.T) {
	norm, _ := NormalizeActivity(json.RawMessage(`{"name":"a","type":0,"emoji":{"id":12}}`))
	in := &Presence{Status: StatusDND, ClientStatus: &ClientStatus{Web: StatusDND},
		Packed: PackActivities([][]byte{norm, []byte(`{"id":"spotify:1","name":"Spotify","type":2}`)})}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(in); err != nil {
		t.Fatal(err)
	}
	var out Presence
	if err := gob.NewDecoder(&buf).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if !out.Equal(in) || out.Packed.Len() != 2 || out.ActivityList()[1].ID != "spotify:1" {
		t.Fatalf("gob gave %+v from %+v", out, in)
	}
}

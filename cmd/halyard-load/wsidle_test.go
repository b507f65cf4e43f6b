package main

import "testing"

func TestSourceAddrs(t *testing.T) {
	got := sourceAddrs(2*perSourceAddr + 1)
	want := []string{"127.0.0.2:0", "127.0.0.3:0", "127.0.0.4:0"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("address %d: %s, want %s", i, got[i], want[i])
		}
	}
	if n := len(sourceAddrs(1_000_000)); n != 50 {
		t.Errorf("1M connections over %d addresses, want 50", n)
	}
}

func TestSourceAddrsFrom(t *testing.T) {
	got := sourceAddrsFrom(300, perSourceAddr+1)
	want := []string{"127.0.1.46:0", "127.0.1.47:0"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("address %d: %s, want %s", i, got[i], want[i])
		}
	}
}

func TestWSIdleProcs(t *testing.T) {
	for _, c := range []struct {
		n, procs int
		limit    uint64
		want     int
	}{
		{100_000, 0, 20_000, 6}, {18_000, 0, 20_000, 1}, {100_000, 0, 1 << 20, 1}, {10, 3, 20_000, 3}, {10, 0, 0, 1}, {5000, 0, 0, 5},
	} {
		if got := wsIdleProcs(c.n, c.procs, c.limit); got != c.want {
			t.Errorf("wsIdleProcs(%d, %d, %d) = %d, want %d", c.n, c.procs, c.limit, got, c.want)
		}
	}
}

func TestParseHeld(t *testing.T) {
	if k, err := parseHeld("held 42"); k != 42 || err != nil {
		t.Errorf("held 42: %d, %v", k, err)
	}
	if k, err := parseHeld("held 7 error: dial tcp: refused"); k != 7 || err == nil || err.Error() != "dial tcp: refused" {
		t.Errorf("held 7 error: %d, %v", k, err)
	}
	for _, bad := range []string{"", "held", "held x", "nope 3"} {
		if _, err := parseHeld(bad); err == nil {
			t.Errorf("parseHeld(%q) accepted", bad)
		}
	}
}

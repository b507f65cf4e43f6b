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

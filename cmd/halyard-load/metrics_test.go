package main

import "testing"

func TestParseSample(t *testing.T) {
	for line, want := range map[string][2]string{
		`process_resident_memory_bytes 1.2345e+07`:                     {"process_resident_memory_bytes", "1.2345e+07"},
		`halyard_socket_connections{dialect="lanyard",x="a b}"} 12 17`: {"halyard_socket_connections", "12"},
		`{bad} 1`: {"", ""},
	} {
		name, value := parseSample(line)
		if name != want[0] || value != want[1] {
			t.Errorf("%s: %q %q", line, name, value)
		}
	}
}

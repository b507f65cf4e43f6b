//go:build !race

package storage

// raceEnabled is true in a -race build, where the embedded server runs
// many times slower.
const raceEnabled = false

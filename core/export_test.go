package core

// The internal tests' helpers, for the tests of package core_test: those
// use internal/memstore, which an internal test cannot import (memstore
// imports core).
var (
	TestUser = testUser
	Online   = online
)

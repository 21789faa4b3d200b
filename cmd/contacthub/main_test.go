package main

import (
	"testing"

	"github.com/contacthub/contacthub/internal/dbtest"
)

// TestMain starts the package's private PostgreSQL for the in-process tests
// (access_test.go); the tests that build and run the binary do not need it.
func TestMain(m *testing.M) { dbtest.Main(m) }

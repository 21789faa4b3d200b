// Package migrations holds the numbered SQL migrations of ContactHub,
// embedded in the binary and applied at start by goose (see internal/store).
//
// Files are named NNNNN_what.sql with goose's "-- +goose Up" / "-- +goose Down"
// annotations. Never edit a migration that has landed: add a new one.
package migrations

import "embed"

// FS holds every migration.
//
//go:embed *.sql
var FS embed.FS

package desktest

import (
	"context"
	"io"
	"log/slog"

	"github.com/contacthub/contacthub/internal/demo"
	"github.com/contacthub/contacthub/internal/store"
)

func seed(ctx context.Context, st *store.Store, n int) error {
	return demo.SeedCustomers(ctx, st, n, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

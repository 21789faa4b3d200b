package importer

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/contacthub/contacthub/internal/customer"
	"github.com/contacthub/contacthub/internal/store"
)

// BatchSize is the number of rows COPYed per transaction.
const BatchSize = 10000

// Report is what an import did.
type Report struct {
	Rows     int                // data rows read
	Inserted int64              // new rows
	Updated  int64              // rows that differed and were updated
	Rejected []store.RowProblem // rows skipped (or imported with a warning), by row number
	Elapsed  time.Duration
}

// Unchanged is the rows that were already there as they are.
func (r Report) Unchanged() int64 {
	return int64(r.Rows) - int64(len(r.Rejected)) - r.Inserted - r.Updated
}

// Importer imports CSV files into a store.
type Importer struct {
	Store    *store.Store
	Norm     customer.Normalizer
	Progress io.Writer // nil: silent; else a line rewritten with \r (a terminal)
}

// Customers imports a customers file. Row numbers count the header as row 1.
func (im *Importer) Customers(ctx context.Context, r io.Reader) (Report, error) {
	var batch []store.CustomerImport
	return im.run(ctx, r, CustomerColumns,
		func(h Header, rec []string, row int) error {
			c, err := ParseCustomer(h, rec, im.Norm)
			if err != nil {
				return err
			}
			c.Row = row
			batch = append(batch, c)
			return nil
		},
		func() int { return len(batch) },
		func(ctx context.Context) (store.ImportResult, error) {
			res, err := im.Store.ImportCustomers(ctx, batch)
			batch = batch[:0]
			return res, err
		})
}

// Orders imports an orders file. Customers must be imported first.
func (im *Importer) Orders(ctx context.Context, r io.Reader) (Report, error) {
	var batch []store.OrderImport
	return im.run(ctx, r, OrderColumns,
		func(h Header, rec []string, row int) error {
			o, err := ParseOrder(h, rec)
			if err != nil {
				return err
			}
			o.Row = row
			batch = append(batch, o)
			return nil
		},
		func() int { return len(batch) },
		func(ctx context.Context) (store.ImportResult, error) {
			res, err := im.Store.ImportOrders(ctx, batch)
			batch = batch[:0]
			return res, err
		})
}

func (im *Importer) run(ctx context.Context, r io.Reader, required []string,
	parse func(Header, []string, int) error, pending func() int,
	flush func(context.Context) (store.ImportResult, error)) (Report, error) {
	start := time.Now()
	var rep Report
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return rep, fmt.Errorf("importer: header: %w", err)
	}
	h, err := ParseHeader(head, required...)
	if err != nil {
		return rep, err
	}
	prog := newProgress(im.Progress)
	doFlush := func() error {
		if pending() == 0 {
			return nil
		}
		res, err := flush(ctx)
		if err != nil {
			return err
		}
		rep.Inserted += res.Inserted
		rep.Updated += res.Updated
		rep.Rejected = append(rep.Rejected, res.Problems...)
		return nil
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line := rep.Rows + 2
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return rep, fmt.Errorf("importer: read: %w", err)
			}
			rep.Rows++
			rep.Rejected = append(rep.Rejected, store.RowProblem{Row: pe.StartLine, Reason: "malformed CSV: " + pe.Err.Error()})
			continue
		}
		line, _ = cr.FieldPos(0)
		rep.Rows++
		if err := parse(h, rec, line); err != nil {
			rep.Rejected = append(rep.Rejected, store.RowProblem{Row: line, Reason: err.Error()})
		}
		if pending() >= BatchSize {
			if err := doFlush(); err != nil {
				return rep, err
			}
			prog.update(rep.Rows)
		}
	}
	if err := doFlush(); err != nil {
		return rep, err
	}
	prog.done(rep.Rows)
	sort.SliceStable(rep.Rejected, func(i, j int) bool { return rep.Rejected[i].Row < rep.Rejected[j].Row })
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// IsTerminal reports whether f is a terminal (a character device), without
// a dependency.
func IsTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

type progress struct {
	w     io.Writer
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w, start: time.Now()} }

func (p *progress) update(rows int) {
	if p.w == nil || time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.print(rows)
}

func (p *progress) print(rows int) {
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(rows) / el
	}
	fmt.Fprintf(p.w, "\r%s rows  %.0f rows/s  %.1fs ", itoa(rows), rate, el)
}

func (p *progress) done(rows int) {
	if p.w == nil {
		return
	}
	p.print(rows)
	fmt.Fprintln(p.w)
}

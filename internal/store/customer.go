package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/contacthub/contacthub/contact"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Customer is a person or company ContactHub knows.
type Customer struct {
	ID               contact.CustomerID `json:"id"`
	ExternalID       string             `json:"external_id"` // "" when created here (NULL in the database)
	Name             string             `json:"name"`
	Company          string             `json:"company"`
	Language         string             `json:"language"`
	Notes            string             `json:"notes"`
	AccountManagerID *int64             `json:"account_manager_id"`
	PinnedTier       string             `json:"pinned_tier"` // "" when not pinned
	CreatedAt        time.Time          `json:"created_at"`
}

const customerColumns = `id, coalesce(external_id, ''), name, company, language, notes, account_manager_id, coalesce(pinned_tier, ''), created_at`

func scanCustomer(row pgx.Row) (Customer, error) {
	var c Customer
	err := row.Scan(&c.ID, &c.ExternalID, &c.Name, &c.Company, &c.Language, &c.Notes, &c.AccountManagerID, &c.PinnedTier, &c.CreatedAt)
	return c, err
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func isFKViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// CreateCustomer inserts c with its identities (values already normalised)
// in one transaction. ErrConflict if the external id or an identity is taken.
func (s *Store) CreateCustomer(ctx context.Context, c Customer, ids []Identity) (Customer, error) {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return Customer{}, fmt.Errorf("store: create customer: %w", err)
	}
	defer tx.Rollback(ctx)
	out, err := scanCustomer(tx.QueryRow(ctx, `
		INSERT INTO customers (external_id, name, company, language, notes, account_manager_id, pinned_tier)
		VALUES (NULLIF($1, ''), $2, $3, $4, $5, $6, NULLIF($7, ''))
		RETURNING `+customerColumns, c.ExternalID, c.Name, c.Company, c.Language, c.Notes, c.AccountManagerID, c.PinnedTier))
	if err != nil {
		if isUniqueViolation(err) {
			return Customer{}, fmt.Errorf("store: create customer %q: %w", c.ExternalID, ErrConflict)
		}
		return Customer{}, fmt.Errorf("store: create customer: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.Exec(ctx, `INSERT INTO identities (customer_id, kind, value, verified) VALUES ($1, $2, $3, $4)`,
			out.ID, id.Kind, id.Value, id.Verified); err != nil {
			if isUniqueViolation(err) {
				return Customer{}, fmt.Errorf("store: create customer: identity %s %s: %w", id.Kind, id.Value, ErrConflict)
			}
			return Customer{}, fmt.Errorf("store: create customer: identity: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return Customer{}, fmt.Errorf("store: create customer: %w", err)
	}
	return out, nil
}

// CustomerByID returns the customer with id, or ErrNotFound.
func (s *Store) CustomerByID(ctx context.Context, id contact.CustomerID) (Customer, error) {
	c, err := scanCustomer(s.Pool.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Customer{}, fmt.Errorf("store: customer %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Customer{}, fmt.Errorf("store: customer %d: %w", id, err)
	}
	return c, nil
}

// CustomerFilter selects customers for ListCustomers. Empty fields match all.
type CustomerFilter struct {
	Tier, Segment, Lifecycle string
	Limit, Offset            int
}

// CustomerSummary is a row of a customer list.
type CustomerSummary struct {
	ID         contact.CustomerID `json:"id"`
	ExternalID string             `json:"external_id"`
	Name       string             `json:"name"`
	Company    string             `json:"company"`
	Tier       string             `json:"tier"`
	Segment    string             `json:"segment"`
	Lifecycle  string             `json:"lifecycle"`
	ValueScore float64            `json:"value_score"`
}

// ListCustomers returns customers matching f, by id. The tier is the
// effective one (a pinned tier wins); customers never scored are bronze
// prospects.
func (s *Store) ListCustomers(ctx context.Context, f CustomerFilter) ([]CustomerSummary, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT c.id, coalesce(c.external_id, ''), c.name, c.company,
			coalesce(c.pinned_tier, v.tier, 'bronze'), coalesce(v.segment, 'none'),
			coalesce(v.lifecycle, 'prospect'), coalesce(v.value_score, 0)
		FROM customers c LEFT JOIN customer_values v ON v.customer_id = c.id
		WHERE ($1 = '' OR coalesce(c.pinned_tier, v.tier, 'bronze') = $1)
		  AND ($2 = '' OR coalesce(v.segment, 'none') = $2)
		  AND ($3 = '' OR coalesce(v.lifecycle, 'prospect') = $3)
		ORDER BY c.id LIMIT $4 OFFSET $5`, f.Tier, f.Segment, f.Lifecycle, f.Limit, f.Offset)
	if err != nil {
		return nil, fmt.Errorf("store: list customers: %w", err)
	}
	defer rows.Close()
	out := []CustomerSummary{}
	for rows.Next() {
		var c CustomerSummary
		if err := rows.Scan(&c.ID, &c.ExternalID, &c.Name, &c.Company, &c.Tier, &c.Segment, &c.Lifecycle, &c.ValueScore); err != nil {
			return nil, fmt.Errorf("store: list customers: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list customers: %w", err)
	}
	return out, nil
}

// SetPinnedTier pins a customer's tier; "" unpins. ErrNotFound if there is
// no such customer. The caller rescores the customer so customer_values
// follows.
func (s *Store) SetPinnedTier(ctx context.Context, id contact.CustomerID, tier string) error {
	tag, err := s.Pool.Exec(ctx, `UPDATE customers SET pinned_tier = NULLIF($2, '') WHERE id = $1`, id, tier)
	if err != nil {
		return fmt.Errorf("store: pin tier %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: pin tier %d: %w", id, ErrNotFound)
	}
	// Keep the stored tier in step at once (an unpin is settled by the rescore).
	if tier != "" {
		if _, err := s.Pool.Exec(ctx, `UPDATE customer_values SET tier = $2 WHERE customer_id = $1`, id, tier); err != nil {
			return fmt.Errorf("store: pin tier %d: %w", id, err)
		}
	}
	return nil
}

// CustomerRefTables lists every (table, column) holding a foreign key to
// customers(id), found in the catalog, so a merge follows tables added by
// later migrations (contacts, complaints, ...) without being told.
func (s *Store) CustomerRefTables(ctx context.Context) ([][2]string, error) {
	return customerRefs(ctx, s.Pool)
}

type rowQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func customerRefs(ctx context.Context, db rowQuerier) ([][2]string, error) {
	rows, err := db.Query(ctx, `
		SELECT n.nspname || '.' || cl.relname, a.attname
		FROM pg_constraint con
		JOIN pg_class cl ON cl.oid = con.conrelid
		JOIN pg_namespace n ON n.oid = cl.relnamespace
		JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
		WHERE con.contype = 'f' AND con.confrelid = 'customers'::regclass
		  AND array_length(con.conkey, 1) = 1 AND cl.relpersistence <> 't'
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("store: customer references: %w", err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, fmt.Errorf("store: customer references: %w", err)
		}
		out = append(out, [2]string{t, c})
	}
	return out, rows.Err()
}

// MergeCustomers moves everything of customer from onto customer into, in
// one transaction, and deletes from. Every column with a foreign key to
// customers(id) is repointed (identities, orders, feedback, merge records,
// and contacts, complaints or any other table later migrations add),
// discovered in pg_constraint; customer_values of from is dropped (the
// caller rescores into). Empty name, company, language and notes of into
// are filled from from, and from's pinned tier is kept if into has none.
// A table with a unique constraint on its customer column would make the
// merge fail with ErrConflict rather than lose rows.
// ErrNotFound if either is missing; ErrConflict if from == into.
func (s *Store) MergeCustomers(ctx context.Context, into, from contact.CustomerID) error {
	if into == from {
		return fmt.Errorf("store: merge customer %d into itself: %w", from, ErrConflict)
	}
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: merge %d into %d: %w", from, into, err)
	}
	defer tx.Rollback(ctx)
	// Lock both, lower id first, so concurrent merges cannot deadlock.
	rows, err := tx.Query(ctx, `SELECT id FROM customers WHERE id IN ($1, $2) ORDER BY id FOR UPDATE`, into, from)
	if err != nil {
		return fmt.Errorf("store: merge %d into %d: %w", from, into, err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	if n != 2 {
		return fmt.Errorf("store: merge %d into %d: %w", from, into, ErrNotFound)
	}
	refs, err := customerRefs(ctx, tx)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if r[0] == "public.customer_values" {
			continue
		}
		q := fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE %s = $2`, r[0], pgx.Identifier{r[1]}.Sanitize(), pgx.Identifier{r[1]}.Sanitize())
		if _, err := tx.Exec(ctx, q, into, from); err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("store: merge %d into %d: %s.%s: %w", from, into, r[0], r[1], ErrConflict)
			}
			return fmt.Errorf("store: merge %d into %d: %s.%s: %w", from, into, r[0], r[1], err)
		}
	}
	if _, err := tx.Exec(ctx, `
		UPDATE customers t SET
			name = CASE WHEN t.name = '' THEN f.name ELSE t.name END,
			company = CASE WHEN t.company = '' THEN f.company ELSE t.company END,
			language = CASE WHEN t.language = '' THEN f.language ELSE t.language END,
			notes = CASE WHEN t.notes = '' THEN f.notes WHEN f.notes = '' THEN t.notes ELSE t.notes || E'\n' || f.notes END,
			account_manager_id = coalesce(t.account_manager_id, f.account_manager_id),
			pinned_tier = coalesce(t.pinned_tier, f.pinned_tier)
		FROM customers f WHERE t.id = $1 AND f.id = $2`, into, from); err != nil {
		return fmt.Errorf("store: merge %d into %d: %w", from, into, err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO customer_merges (from_id, from_external_id, into_id)
		SELECT id, external_id, $1 FROM customers WHERE id = $2`, into, from); err != nil {
		return fmt.Errorf("store: merge %d into %d: %w", from, into, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM customers WHERE id = $1`, from); err != nil {
		if isFKViolation(err) {
			return fmt.Errorf("store: merge %d into %d: a table still refers to %d: %w", from, into, from, err)
		}
		return fmt.Errorf("store: merge %d into %d: %w", from, into, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: merge %d into %d: %w", from, into, err)
	}
	return nil
}

// CustomerImport is one customer row of an import, validated and
// normalised. Company and Language nil: not in the file (kept as they are).
type CustomerImport struct {
	Row        int
	ExternalID string
	Name       string
	Company    *string
	Language   *string
	Phone      string // E.164 or ""
	Email      string // case-folded or ""
}

// RowProblem is a row an import rejected, or imported with a warning.
type RowProblem struct {
	Row    int    `json:"row"`
	Reason string `json:"reason"`
}

// ImportResult counts what an import batch did.
type ImportResult struct {
	Inserted, Updated int64
	Problems          []RowProblem
}

// ImportCustomers upserts a batch by external id, set-based: COPY into a
// temporary table, then INSERT ... ON CONFLICT. Rows whose fields equal the
// stored ones are left alone, so re-running an import changes nothing.
// Phones and emails are linked unless another customer has them already
// (reported as a problem; the customer row itself is imported). Within a
// batch the last row of an external id wins.
func (s *Store) ImportCustomers(ctx context.Context, rows []CustomerImport) (ImportResult, error) {
	var res ImportResult
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("store: import customers: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stage_customers (row int, external_id text, name text,
		company text, language text, phone text, email text) ON COMMIT DROP`); err != nil {
		return res, fmt.Errorf("store: import customers: %w", err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"stage_customers"},
		[]string{"row", "external_id", "name", "company", "language", "phone", "email"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := rows[i]
			return []any{int32(r.Row), r.ExternalID, r.Name, r.Company, r.Language, r.Phone, r.Email}, nil
		}))
	if err != nil {
		return res, fmt.Errorf("store: import customers: copy: %w", err)
	}
	// Company and language are columns the file has or has not.
	var hasCompany, hasLanguage bool
	for _, r := range rows {
		hasCompany = hasCompany || r.Company != nil
		hasLanguage = hasLanguage || r.Language != nil
	}
	err = tx.QueryRow(ctx, `
		WITH d AS (SELECT DISTINCT ON (external_id) * FROM stage_customers ORDER BY external_id, row DESC),
		up AS (
			INSERT INTO customers AS c (external_id, name, company, language)
			SELECT external_id, name, coalesce(company, ''), coalesce(language, '') FROM d
			ON CONFLICT (external_id) DO UPDATE SET name = excluded.name,
				company = CASE WHEN $1 THEN excluded.company ELSE c.company END,
				language = CASE WHEN $2 THEN excluded.language ELSE c.language END
			WHERE c.name IS DISTINCT FROM excluded.name
			   OR ($1 AND c.company IS DISTINCT FROM excluded.company)
			   OR ($2 AND c.language IS DISTINCT FROM excluded.language)
			RETURNING (xmax = 0) AS inserted
		)
		SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up`, hasCompany, hasLanguage).Scan(&res.Inserted, &res.Updated)
	if err != nil {
		return res, fmt.Errorf("store: import customers: upsert: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO identities (customer_id, kind, value)
		SELECT c.id, k.kind, k.value
		FROM stage_customers s JOIN customers c ON c.external_id = s.external_id,
		LATERAL (VALUES ('phone', s.phone), ('email', s.email)) AS k(kind, value)
		WHERE k.value <> ''
		ON CONFLICT (kind, value) DO NOTHING`); err != nil {
		return res, fmt.Errorf("store: import customers: identities: %w", err)
	}
	prow, err := tx.Query(ctx, `
		SELECT s.row, i.kind, i.value, coalesce(o.external_id, o.id::text)
		FROM stage_customers s JOIN customers c ON c.external_id = s.external_id,
		LATERAL (VALUES ('phone', s.phone), ('email', s.email)) AS k(kind, value)
		JOIN identities i ON i.kind = k.kind AND i.value = k.value
		JOIN customers o ON o.id = i.customer_id
		WHERE k.value <> '' AND i.customer_id <> c.id
		ORDER BY s.row`)
	if err != nil {
		return res, fmt.Errorf("store: import customers: identities: %w", err)
	}
	for prow.Next() {
		var p RowProblem
		var kind, value, other string
		if err := prow.Scan(&p.Row, &kind, &value, &other); err != nil {
			prow.Close()
			return res, fmt.Errorf("store: import customers: %w", err)
		}
		p.Reason = fmt.Sprintf("customer imported, but %s %s belongs to customer %s: not linked", kind, value, other)
		res.Problems = append(res.Problems, p)
	}
	prow.Close()
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("store: import customers: %w", err)
	}
	return res, nil
}

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// reshape gives the seed's tables quotad's shape inside tx. quotad's
// migrations run as on a new file, with the seed's channels and logs moved
// aside; then the seed's tables take the place of quotad's new empty ones
// (keeping their rows, ids, columns, indexes and triggers), gaining the
// columns and indexes quotad's have.
func reshape(ctx context.Context, tx *sql.Tx, now time.Time) error {
	tables, err := tableNames(ctx, tx)
	if err != nil {
		return err
	}
	// Names that a quotad migration creates would collide.
	if slices.Contains(tables, SeedQuotasTable) {
		return fmt.Errorf("the file already has a table %s; rename it, then migrate again", SeedQuotasTable)
	}
	aside := map[string]string{}
	for _, name := range []string{"channels", "logs"} {
		if !slices.Contains(tables, name) {
			continue
		}
		tmp := "quotad_adopting_" + name
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+name+` RENAME TO `+tmp); err != nil {
			return fmt.Errorf("move %s aside: %w", name, err)
		}
		aside[name] = tmp
	}
	if slices.Contains(tables, "api_quotas") {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE api_quotas RENAME TO `+SeedQuotasTable); err != nil {
			return fmt.Errorf("keep api_quotas as %s: %w", SeedQuotasTable, err)
		}
	}
	if err := migrateTx(ctx, tx, now); err != nil {
		return err
	}
	if tmp, ok := aside["channels"]; ok {
		if err := putBack(ctx, tx, "channels", tmp); err != nil {
			return err
		}
		if err := uniqueNames(ctx, tx); err != nil {
			return err
		}
	}
	if tmp, ok := aside["logs"]; ok {
		cols, err := columns(ctx, tx, tmp)
		if err != nil {
			return err
		}
		if c, ok := cols.get("id"); ok && c.pk == 1 && strings.EqualFold(c.typ, "INTEGER") {
			err = putBack(ctx, tx, "logs", tmp)
		} else {
			err = copyInto(ctx, tx, "logs", tmp)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// migrateTx applies every migration inside tx and records them.
func migrateTx(ctx context.Context, tx *sql.Tx, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range migrations {
		for _, stmt := range m.stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %d (%s): %w (does the file have a table of that name? rename it, then migrate again)", m.version, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			m.version, now.UTC().Format(timeLayout)); err != nil {
			return fmt.Errorf("migration %d (%s): record: %w", m.version, m.name, err)
		}
	}
	return nil
}

// putBack replaces quotad's new, empty table name by the seed's table tmp:
// quotad's table is dropped, tmp renamed to name (legacy_alter_table keeps
// every REFERENCES name(...) of the daemon's tables as it is, so they point
// at the seed's rows again), and quotad's columns and indexes that the
// seed's table lacks are added.
func putBack(ctx context.Context, tx *sql.Tx, name, tmp string) error {
	want, err := columns(ctx, tx, name)
	if err != nil {
		return err
	}
	indexes, err := indexSQL(ctx, tx, name)
	if err != nil {
		return err
	}
	have, err := columns(ctx, tx, tmp)
	if err != nil {
		return err
	}
	for _, stmt := range []string{`DROP TABLE ` + name, `ALTER TABLE ` + tmp + ` RENAME TO ` + name} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("adopt %s: %s: %w", name, stmt, err)
		}
	}
	for _, c := range want {
		if have.has(c.name) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+name+` ADD COLUMN `+c.definition()); err != nil {
			return fmt.Errorf("adopt %s: add column %s: %w", name, c.name, err)
		}
	}
	for _, stmt := range indexes {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("adopt %s: %s: %w", name, stmt, err)
		}
	}
	return nil
}

// copyInto fills quotad's new table name with the rows of the seed's table
// tmp (in rowid order, so ids follow the old order), adding the seed's
// extra columns, then drops tmp and recreates its indexes on name.
func copyInto(ctx context.Context, tx *sql.Tx, name, tmp string) error {
	want, err := columns(ctx, tx, name)
	if err != nil {
		return err
	}
	have, err := columns(ctx, tx, tmp)
	if err != nil {
		return err
	}
	indexes, err := indexSQL(ctx, tx, tmp)
	if err != nil {
		return err
	}
	var names, exprs []string
	for _, c := range have {
		if !want.has(c.name) {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE `+name+` ADD COLUMN "`+c.name+`" `+c.typ); err != nil {
				return fmt.Errorf("adopt %s: add column %s: %w", name, c.name, err)
			}
		}
		if c.name == "id" {
			continue
		}
		names = append(names, `"`+c.name+`"`)
		expr := `"` + c.name + `"`
		if w, ok := want.get(c.name); ok && w.notNull {
			expr = `coalesce(` + expr + `, '')`
		}
		exprs = append(exprs, expr)
	}
	q := `INSERT INTO ` + name + ` (` + strings.Join(names, ", ") + `) SELECT ` + strings.Join(exprs, ", ") +
		` FROM ` + tmp + ` ORDER BY rowid`
	if _, err := tx.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("adopt %s: copy rows: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE `+tmp); err != nil {
		return fmt.Errorf("adopt %s: %w", name, err)
	}
	for _, stmt := range indexes {
		stmt = strings.Replace(stmt, tmp, name, 1)
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("adopt %s: %s: %w", name, stmt, err)
		}
	}
	return nil
}

// uniqueNames makes channels.name unique (quotad's channel_pauses refer to
// it) when the seed's table does not declare it so.
func uniqueNames(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT il.name FROM pragma_index_list('channels') il WHERE il."unique" = 1`)
	if err != nil {
		return fmt.Errorf("channels indexes: %w", err)
	}
	var idx []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		idx = append(idx, n)
	}
	rows.Close()
	for _, n := range idx {
		var cols []string
		r, err := tx.QueryContext(ctx, `SELECT name FROM pragma_index_info(?)`, n)
		if err != nil {
			return err
		}
		for r.Next() {
			var c sql.NullString
			if err := r.Scan(&c); err != nil {
				r.Close()
				return err
			}
			cols = append(cols, c.String)
		}
		r.Close()
		if len(cols) == 1 && cols[0] == "name" {
			return nil
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE UNIQUE INDEX channels_name ON channels (name)`); err != nil {
		return fmt.Errorf("make channel names unique: %w", err)
	}
	return nil
}

// column is one row of PRAGMA table_info.
type column struct {
	name, typ string
	notNull   bool
	dflt      sql.NullString
	pk        int
}

// definition is the column's definition for ALTER TABLE ADD COLUMN.
func (c column) definition() string {
	s := `"` + c.name + `"`
	if c.typ != "" {
		s += " " + c.typ
	}
	if c.notNull && c.dflt.Valid {
		s += " NOT NULL"
	}
	if c.dflt.Valid {
		s += " DEFAULT " + c.dflt.String
	}
	return s
}

type columnList []column

func (l columnList) get(name string) (column, bool) {
	for _, c := range l {
		if strings.EqualFold(c.name, name) {
			return c, true
		}
	}
	return column{}, false
}

func (l columnList) has(name string) bool { _, ok := l.get(name); return ok }

func columns(ctx context.Context, q queryer, table string) (columnList, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var out columnList
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.dflt, &c.pk); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", table, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func tableNames(ctx context.Context, q queryer) ([]string, error) {
	return names(ctx, q, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
}

// indexSQL returns the CREATE INDEX statements of table's explicit indexes.
func indexSQL(ctx context.Context, q queryer, table string) ([]string, error) {
	return names(ctx, q, `SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`, table)
}

func names(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

//! One release's rows copied between this machine's SQLite file and the team's PostgreSQL, by
//! one list of columns per table: the two schemas use the same names and types (text and
//! 64-bit integers), so nothing is mapped by hand and a column added to both is copied.

use rusqlite::types::{ToSqlOutput, Value};
use tokio_postgres::types::ToSql;

/// A column's type in both stores.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Text,
    Int,
}

pub(super) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// The columns a row is known by (`ON CONFLICT`).
    pub key: &'static [&'static str],
}

use Kind::{Int, Text};

pub(super) const RELEASES: Table = Table {
    name: "releases",
    columns: &[
        ("id", Text),
        ("project_path", Text),
        ("project_name", Text),
        ("user", Text),
        ("started_at", Text),
        ("ended_at", Text),
        ("commit_sha", Text),
        ("branch", Text),
        ("dirty", Int),
        ("target", Text),
        ("image", Text),
        ("digest", Text),
        ("deploy_id", Text),
        ("deploy_status", Text),
        ("url", Text),
        ("outcome", Text),
        ("message", Text),
        ("error_kind", Text),
        ("error_hint", Text),
        ("step_strip", Text),
        ("kind", Text),
        ("source_id", Text),
        ("machine", Text),
        ("image_id", Text),
        ("environment", Text),
        ("service", Text),
        ("error_action", Text),
        ("error_detail", Text),
        ("remote_url", Text),
        ("on_remote", Int),
    ],
    key: &["id"],
};

pub(super) const STEPS: Table = Table {
    name: "steps",
    columns: &[
        ("release_id", Text),
        ("position", Int),
        ("name", Text),
        ("state", Text),
        ("started_at", Text),
        ("ended_at", Text),
        ("summary", Text),
        ("cache_key", Text),
        ("cached_from", Text),
    ],
    key: &["release_id", "name"],
};

pub(super) const LOGS: Table = Table {
    name: "step_logs",
    columns: &[
        ("release_id", Text),
        ("seq", Int),
        ("step", Text),
        ("stream", Text),
        ("line", Text),
        ("at_ms", Int),
    ],
    key: &["release_id", "seq"],
};

pub(super) const RESULTS: Table = Table {
    name: "step_results",
    columns: &[("release_id", Text), ("seq", Int), ("step", Text), ("body", Text)],
    key: &["release_id", "seq"],
};

/// One value of a row, in either store.
#[derive(Debug, Clone)]
pub(super) enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

pub(super) type Row = Vec<Cell>;

impl rusqlite::ToSql for Cell {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Cell::Text(text) => ToSqlOutput::Owned(text.clone().map_or(Value::Null, Value::Text)),
            Cell::Int(number) => ToSqlOutput::Owned(number.map_or(Value::Null, Value::Integer)),
        })
    }
}

impl Cell {
    pub(super) fn as_pg(&self) -> &(dyn ToSql + Sync) {
        match self {
            Cell::Text(text) => text,
            Cell::Int(number) => number,
        }
    }

    pub(super) fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(text) => text.as_deref(),
            Cell::Int(_) => None,
        }
    }

    pub(super) fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(number) => *number,
            Cell::Text(_) => None,
        }
    }
}

impl Table {
    /// `"a", "b", …`, quoted for both stores (`user` is a word PostgreSQL keeps).
    pub(super) fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub(super) fn position(&self, column: &str) -> usize {
        self.columns.iter().position(|(name, _)| *name == column).unwrap_or(0)
    }

    /// A row read from SQLite, `offset` columns in.
    pub(super) fn read_sqlite(&self, row: &rusqlite::Row<'_>, offset: usize) -> rusqlite::Result<Row> {
        self.columns
            .iter()
            .enumerate()
            .map(|(index, (_, kind))| {
                Ok(match kind {
                    // PostgreSQL's text holds no NUL (a test's output may): one would stop every send.
                    Kind::Text => Cell::Text(row.get::<_, Option<String>>(offset + index)?.map(|text| {
                        if text.contains('\0') {
                            text.replace('\0', "\u{FFFD}")
                        } else {
                            text
                        }
                    })),
                    Kind::Int => Cell::Int(row.get(offset + index)?),
                })
            })
            .collect()
    }

    /// A row read from PostgreSQL, `offset` columns in.
    pub(super) fn read_pg(&self, row: &tokio_postgres::Row, offset: usize) -> Result<Row, tokio_postgres::Error> {
        self.columns
            .iter()
            .enumerate()
            .map(|(index, (_, kind))| {
                Ok(match kind {
                    Kind::Text => Cell::Text(row.try_get(offset + index)?),
                    Kind::Int => Cell::Int(row.try_get(offset + index)?),
                })
            })
            .collect()
    }

    /// `INSERT … VALUES ($1, …), (…) ON CONFLICT (key) …` for `rows` rows: an update of every
    /// column (and a new change number) when `update`, else the row already there is kept.
    pub(super) fn pg_insert(&self, rows: usize, update: bool) -> String {
        let width = self.columns.len();
        let values = (0..rows)
            .map(|row| {
                let cells = (1..=width)
                    .map(|column| format!("${}", row * width + column))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({cells})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let key = self.key.join(", ");
        let on_conflict = if update {
            let sets = self
                .columns
                .iter()
                .map(|(name, _)| format!("\"{name}\" = EXCLUDED.\"{name}\""))
                .collect::<Vec<_>>()
                .join(", ");
            format!("DO UPDATE SET {sets}, change = nextval('changes')")
        } else {
            "DO NOTHING".to_owned()
        };
        format!(
            "INSERT INTO {} ({}) VALUES {values} ON CONFLICT ({key}) {on_conflict}",
            self.name,
            self.column_list()
        )
    }
}

/// Rows per statement: well under PostgreSQL's 65,535 parameters for the widest table.
pub(super) const BATCH: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_insert_numbers_its_values_row_by_row_and_says_what_a_conflict_does() {
        let sql = RESULTS.pg_insert(2, false);
        assert!(sql.starts_with("INSERT INTO step_results (\"release_id\", \"seq\", \"step\", \"body\") VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)"), "{sql}");
        assert!(sql.ends_with("ON CONFLICT (release_id, seq) DO NOTHING"), "{sql}");
        let update = STEPS.pg_insert(1, true);
        assert!(update.contains("\"state\" = EXCLUDED.\"state\""), "{update}");
        assert!(update.ends_with("change = nextval('changes')"), "{update}");
    }

    #[test]
    fn the_widest_batch_stays_under_postgresqls_parameter_limit() {
        let widest = [&RELEASES, &STEPS, &LOGS, &RESULTS]
            .iter()
            .map(|table| table.columns.len())
            .max()
            .unwrap_or(0);
        assert!(widest * BATCH < 65_535, "{widest} columns × {BATCH} rows");
    }

    /// Every column copied exists in this machine's file with the same name.
    #[test]
    fn every_copied_column_is_in_the_sqlite_schema() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        drop(crate::history::Ledger::open(dir.path())?);
        let connection = rusqlite::Connection::open(dir.path().join("history.sqlite3"))?;
        for table in [&RELEASES, &STEPS, &LOGS, &RESULTS] {
            connection.prepare(&format!("SELECT {} FROM {}", table.column_list(), table.name))?;
        }
        Ok(())
    }
}

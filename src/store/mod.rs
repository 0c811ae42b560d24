//! The SQLite store. All SQL in the product lives under this module.
//!
//! Invariants:
//! - The schema only changes through the append-only list in [`migrations`].
//! - Every write is one IMMEDIATE transaction: a kill at any point leaves either the old or
//!   the new state, never half of a security's bars or half of a report.
//! - A security has one adjusted series: when its basis or source changes, all of its
//!   adjusted closes are replaced in the same transaction (see [`Store::replace_bars`]).
//! - Bars pass [`crate::prices::validate_series`] before any row is touched.

mod analysis;
mod catalog;
mod chunks;
mod dashboard;
mod instruments;
mod migrations;
mod outbox;
mod prices;
mod ratings;
mod runs;
mod service;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use analysis::{CloseColumns, ClosePoints};
pub use catalog::{LoadOutcome, ReportRow, WatchlistEntry};
pub use dashboard::WrittenSummary;
pub use instruments::InstrumentWrite;
pub use migrations::migrations;
pub use outbox::{AttemptRecord, ChannelDeliveries, NewOutboxMessage, OutboxAttempt, OutboxRow, OutboxState};
pub use prices::{BarStats, SecurityState, SeriesWrite, WriteStats};
pub use ratings::{RatingsFilter, RatingsWrite};
pub use runs::{JobRun, JobRunOutcome, ProviderStreak, SyncFailureRow, SyncRunRow};
pub use service::PriceFreshness;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    // `error`, not `source`: these messages quote the cause, so a chain must not repeat it.
    #[error("database {path}: {error}")]
    Open { path: PathBuf, error: rusqlite::Error },
    #[error(
        "database {path} does not exist; create it with `ratingwatch init` (or `sync`, `import`, `serve`), or point --db, RATINGWATCH_DB or [database] path at an existing one"
    )]
    Missing { path: PathBuf },
    #[error(
        "database {path} is read-only for this user; this command writes to it (check the file's and its folder's owner and permissions)"
    )]
    ReadOnly { path: PathBuf },
    #[error("cannot create the database folder {path}: {error}")]
    CreateDir { path: PathBuf, error: std::io::Error },
    #[error("database {path}: migration failed: {error}")]
    Migrate { path: PathBuf, error: rusqlite_migration::Error },
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("{symbol}: {source}")]
    InvalidBars { symbol: String, source: crate::prices::BarError },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// One connection to the database. Not `Sync`: async code opens one per blocking task.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens an existing database at `path` and migrates it; never creates a file or a
    /// folder. For commands that only read (or change what is there): a mistyped path is
    /// an error naming it, not a new empty database.
    pub fn open_existing(path: &Path) -> Result<Store> {
        if !path.exists() {
            return Err(StoreError::Missing { path: path.to_path_buf() });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open { path: path.to_path_buf(), error: source })?;
        Store::setup(conn, path.to_path_buf())
    }

    /// Opens (creating the file and its folder if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir { path: parent.to_path_buf(), error: source })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open { path: path.to_path_buf(), error: source })?;
        Store::setup(conn, path.to_path_buf())
    }

    /// Opens an existing, fully migrated database read-only (the web server's connections):
    /// nothing is created or migrated, and SQLite refuses every write.
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), error: source };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
        conn.pragma_update(None, "query_only", "ON").map_err(open_err)?;
        let pending =
            migrations().pending_migrations(&conn).map_err(|source| StoreError::Migrate { path: path.to_path_buf(), error: source })?;
        if pending != 0 {
            return Err(StoreError::NotFound(format!(
                "database {} is not at this version's schema ({pending} migrations pending); run `ratingwatch init` once",
                path.display()
            )));
        }
        Ok(Store { conn, path: path.to_path_buf() })
    }

    /// A private in-memory database with the real migrations, for tests and benchmarks.
    pub fn open_in_memory() -> Result<Store> {
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open { path: ":memory:".into(), error: source })?;
        Store::setup(conn, PathBuf::from(":memory:"))
    }

    fn setup(mut conn: Connection, path: PathBuf) -> Result<Store> {
        let open_err = |source| StoreError::Open { path: path.clone(), error: source };
        conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        // Two processes creating the same fresh database race: switching to WAL can answer
        // "database is locked" at once, and both may read schema version 0 so the loser's
        // CREATE TABLE fails after the winner commits. Trying again sees the finished schema.
        let mut attempt: u64 = 0;
        loop {
            match Store::prepare_schema(&mut conn, &path) {
                Ok(()) => break,
                Err(_) if attempt < 5 => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(25 * attempt));
                }
                Err(error) => return Err(error),
            }
        }
        Ok(Store { conn, path })
    }

    fn prepare_schema(conn: &mut Connection, path: &Path) -> Result<()> {
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), error: source };
        // WAL lets CLI commands read while the service writes; NORMAL is durable in WAL mode
        // except for the last transactions on power loss, never corrupting.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(open_err)?;
        migrations().to_latest(conn).map_err(|source| match source {
            rusqlite_migration::Error::RusqliteError { ref err, .. } if is_read_only(err) => {
                StoreError::ReadOnly { path: path.to_path_buf() }
            }
            source => StoreError::Migrate { path: path.to_path_buf(), error: source },
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `PRAGMA data_version`: a number that changes on this connection whenever ANOTHER
    /// connection (of this process or any other) has committed since the last call. Numbers
    /// from two connections are not comparable; a connection's own writes do not change it.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self.conn.query_row("PRAGMA data_version", [], |row| row.get(0))?)
    }

    /// Runs `f` inside one IMMEDIATE transaction: all of its writes land, or none.
    /// A write refused because the file is read-only names the file.
    fn write<T>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
        let result = (|| {
            let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })();
        result.map_err(|error| match error {
            StoreError::Sql(ref sql) if is_read_only(sql) => StoreError::ReadOnly { path: self.path.clone() },
            other => other,
        })
    }

    /// `PRAGMA integrity_check`, for tests and `status`: `true` when the file is sound.
    pub fn integrity_ok(&self) -> Result<bool> {
        let result: String = self.conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(result == "ok")
    }
}

fn is_read_only(error: &rusqlite::Error) -> bool {
    error.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly)
}

// Dates and times go through rusqlite's chrono conversions. Dates (`NaiveDate`) are stored
// as ISO-8601 text (`2023-02-14`), which sorts chronologically. Times are read the same way,
// but written by `time_text` below: rusqlite would write `2023-02-14 09:30:00+00:00`, and the
// stored format (RFC 3339, `2023-02-14T09:30:00Z`) must stay one format so text order stays
// time order.

pub(crate) fn time_text(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_connections_refuse_writes_and_unmigrated_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.db");
        assert!(Store::open_read_only(&path).is_err(), "a missing file is not created");
        assert!(!path.exists());
        drop(Store::open(&path).unwrap());
        let mut store = Store::open_read_only(&path).unwrap();
        assert!(store.report_ids().unwrap().is_empty());
        let error = store.begin_job_run("sync_us", None, chrono::Utc::now()).unwrap_err();
        assert!(error.to_string().contains("readonly") || error.to_string().contains("read-only"), "{error}");

        let blank = dir.path().join("blank.db");
        drop(Connection::open(&blank).unwrap());
        let error = Store::open_read_only(&blank).err().unwrap().to_string();
        assert!(error.contains("ratingwatch init"), "{error}");
    }

    #[test]
    fn a_write_to_a_read_only_database_names_the_file() {
        // File permissions do not stop root (CI may run as root), so the connection itself is
        // opened read-only, as SQLite does for a file the user cannot write.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut store = Store { conn, path: path.clone() };
        let error = store.ensure_security(&crate::symbol::Symbol::parse("MSFT").unwrap()).unwrap_err();
        assert!(matches!(error, StoreError::ReadOnly { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()) && message.contains("read-only"), "{message}");
    }

    #[test]
    fn opening_a_missing_database_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no").join("such").join("dir").join("db.db");
        let message = Store::open_existing(&path).err().unwrap().to_string();
        assert!(message.contains(&path.display().to_string()) && message.contains("ratingwatch init"), "{message}");
        assert!(!dir.path().join("no").exists(), "no folder may be created");
        Store::open(&path).unwrap();
        Store::open_existing(&path).unwrap();
    }

    #[test]
    fn concurrent_first_opens_of_one_database_all_succeed() {
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("race-{round}.db"));
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || Store::open(&path).map(|_| ()).map_err(|e| e.to_string()))
                })
                .collect();
            for opener in openers {
                assert_eq!(opener.join().unwrap(), Ok(()), "round {round}");
            }
        }
    }
}

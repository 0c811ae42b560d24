//! `close_chunks`: every security's adjusted closes (`daily_bars.adj_close`) packed one row per
//! calendar year, for the verdict's bulk read (a 5,000-company verdict reads 5,000 rows of
//! packed points instead of 640,000 rows of bars).
//!
//! The chunks are derived data with one invariant: **they always equal what `daily_bars`
//! holds**. Every write to `daily_bars` (upsert and replace in `prices.rs`, nothing else
//! writes there) rebuilds the chunks of the years it touched in the same transaction, and
//! migration 7 built them for bars stored before it. [`Store::verify_close_chunks`] recomputes
//! every chunk from `daily_bars` and compares; the tests call it after every write path.
//!
//! A chunk's `points` are its year's closes in date order, each 12 bytes: the date as days
//! since 1970-01-01 (`i32`, little-endian), then the close (`f64`, little-endian, bit for bit
//! the stored REAL). `first_day` repeats the first point's date so the read can find a
//! security's base chunk without reading its points.

use std::fmt::Display;

use chrono::{Datelike, NaiveDate};
use rusqlite::types::{FromSql, FromSqlResult, ValueRef};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Result, Store, StoreError};
use crate::symbol::Symbol;

/// Bytes per packed point: `i32` day + `f64` close.
const POINT: usize = 12;
/// `NaiveDate::num_days_from_ce` of 1970-01-01.
const EPOCH_CE_DAYS: i32 = 719_163;

/// Days since 1970-01-01.
pub(super) fn day_number(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - EPOCH_CE_DAYS
}

/// Appends one point to a chunk being packed.
fn pack(points: &mut Vec<u8>, date: NaiveDate, close: f64) {
    points.extend_from_slice(&day_number(date).to_le_bytes());
    points.extend_from_slice(&close.to_le_bytes());
}

/// The points of `year`'s chunk, in stored (date) order. A blob that is not whole points of
/// that year is a corrupt chunk: an error naming the security.
pub(super) fn unpack<'a>(symbol: &'a impl Display, year: i32, points: &'a [u8]) -> impl Iterator<Item = Result<(NaiveDate, f64)>> + 'a {
    let corrupt =
        move || StoreError::Conflict(format!("{symbol}: a stored close chunk is corrupt (not whole points of a date and a close)"));
    let jan1 = NaiveDate::from_yo_opt(year, 1);
    let partial = (!points.len().is_multiple_of(POINT) || jan1.is_none()).then(|| Err(corrupt()));
    let jan1 = jan1.unwrap_or_default();
    let jan1_day = day_number(jan1);
    partial.into_iter().chain(points.chunks_exact(POINT).map(move |point| {
        // `chunks_exact` gives 12 bytes: the defaults are never used.
        let day = i32::from_le_bytes(point[..4].try_into().unwrap_or_default());
        let close = f64::from_le_bytes(point[4..].try_into().unwrap_or_default());
        // The day of the year from January 1st of the chunk's year: chrono's cheapest date
        // (a 5,000-company verdict unpacks 640,000), and a day outside the year is refused.
        let ordinal = day.checked_sub(jan1_day).and_then(|offset| u32::try_from(offset + 1).ok());
        ordinal.and_then(|ordinal| jan1.with_ordinal(ordinal)).map(|date| (date, close)).ok_or_else(corrupt)
    }))
}

/// The points of a chunk's blob a read from `from_day` to `to_day` needs: from the latest on
/// or before `from_day` (a base candidate; the first point when none is) through the last on
/// or before `to_day`. Two binary searches on the packed days; a blob that is not whole
/// points is returned whole, for [`unpack`] to refuse.
pub(super) fn window(points: &[u8], from_day: i32, to_day: i32) -> &[u8] {
    if !points.len().is_multiple_of(POINT) {
        return points;
    }
    let count = points.len() / POINT;
    let day = |index: usize| i32::from_le_bytes(points[index * POINT..index * POINT + 4].try_into().unwrap_or_default());
    // `partition_point` over point indices: the number of points with day <= `bound`.
    let on_or_before = |bound: i32| {
        let (mut low, mut high) = (0, count);
        while low < high {
            let middle = low + (high - low) / 2;
            if day(middle) <= bound {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    };
    let first = on_or_before(from_day).saturating_sub(1);
    let end = on_or_before(to_day).max(first);
    &points[first * POINT..end * POINT]
}

/// Column `index` of `row` read with `read` (a `FromSqlResult` reader borrowing the row's bytes).
pub(super) fn column<'r, T>(
    row: &'r rusqlite::Row<'_>,
    index: usize,
    read: impl FnOnce(ValueRef<'r>) -> FromSqlResult<T>,
) -> rusqlite::Result<T> {
    let value = row.get_ref(index)?;
    read(value).map_err(|error| rusqlite::Error::FromSqlConversionFailure(index, value.data_type(), error.into()))
}

/// A stored `YYYY-MM-DD` date read from the row's bytes without chrono's format parser (the
/// bulk reads step through millions of dates); anything else goes through rusqlite's own
/// conversion, so both read every stored date alike.
pub(super) fn read_date(value: ValueRef<'_>) -> FromSqlResult<NaiveDate> {
    if let ValueRef::Text(bytes) = value
        && let Some(date) = crate::ids::parse_date_bytes(bytes)
    {
        return Ok(date);
    }
    NaiveDate::column_result(value)
}

/// One chunk computed from `daily_bars`.
#[derive(Debug, PartialEq)]
struct Chunk {
    year: i32,
    first_day: i32,
    points: Vec<u8>,
}

/// Walks `daily_bars` in key order (symbol, then date: no sort), calling `each` with every
/// security's chunks once the security is complete.
fn walk_chunks(conn: &Connection, mut each: impl FnMut(&str, Vec<Chunk>) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare("SELECT symbol, date, adj_close FROM daily_bars ORDER BY symbol, date")?;
    let mut rows = stmt.query([])?;
    let mut symbol = String::new();
    let mut chunks: Vec<Chunk> = Vec::new();
    while let Some(row) = rows.next()? {
        let this = column(row, 0, |value| value.as_str())?;
        if this != symbol {
            if !chunks.is_empty() {
                each(&symbol, std::mem::take(&mut chunks))?;
            }
            this.clone_into(&mut symbol);
        }
        let date = column(row, 1, read_date)?;
        let close: f64 = row.get(2)?;
        match chunks.last_mut() {
            Some(chunk) if chunk.year == date.year() => pack(&mut chunk.points, date, close),
            _ => {
                let mut points = Vec::with_capacity(POINT * 262);
                pack(&mut points, date, close);
                chunks.push(Chunk { year: date.year(), first_day: day_number(date), points });
            }
        }
    }
    if !chunks.is_empty() {
        each(&symbol, chunks)?;
    }
    Ok(())
}

const INSERT_CHUNK: &str = "INSERT INTO close_chunks (symbol, year, first_day, points) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (symbol, year) DO UPDATE SET first_day = excluded.first_day, points = excluded.points";

/// Migration 7's hook: the chunks of every bar stored before the table existed.
pub(super) fn build_all(tx: &rusqlite::Transaction<'_>) -> rusqlite_migration::HookResult {
    let mut insert = tx.prepare(INSERT_CHUNK)?;
    walk_chunks(tx, |symbol, chunks| {
        for chunk in chunks {
            insert.execute(params![symbol, chunk.year, chunk.first_day, chunk.points])?;
        }
        Ok(())
    })
    .map_err(|error| match error {
        StoreError::Sql(error) => rusqlite_migration::HookError::RusqliteError(error),
        other => rusqlite_migration::HookError::Hook(other.to_string()),
    })
}

impl Store {
    /// Rebuilds `symbol`'s chunks of `years` from its stored bars, inside the transaction that
    /// wrote them: a year left without bars loses its chunk.
    pub(super) fn rebuild_chunks(tx: &rusqlite::Transaction<'_>, symbol: &Symbol, years: impl IntoIterator<Item = i32>) -> Result<()> {
        let mut years: Vec<i32> = years.into_iter().collect();
        years.sort_unstable();
        years.dedup();
        let symbol_text = symbol.to_string();
        let mut select =
            tx.prepare_cached("SELECT date, adj_close FROM daily_bars WHERE symbol = ?1 AND date >= ?2 AND date <= ?3 ORDER BY date")?;
        let mut insert = tx.prepare_cached(INSERT_CHUNK)?;
        let mut delete = tx.prepare_cached("DELETE FROM close_chunks WHERE symbol = ?1 AND year = ?2")?;
        let mut points = Vec::new();
        for year in years {
            let (Some(first), Some(last)) = (NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)) else {
                continue; // no bar can carry a date chrono cannot represent
            };
            points.clear();
            let mut first_day = None;
            let mut rows = select.query(params![symbol_text, first, last])?;
            while let Some(row) = rows.next()? {
                let date = column(row, 0, read_date)?;
                first_day.get_or_insert(day_number(date));
                pack(&mut points, date, row.get(1)?);
            }
            match first_day {
                Some(first_day) => insert.execute(params![symbol_text, year, first_day, points])?,
                None => delete.execute(params![symbol_text, year])?,
            };
        }
        Ok(())
    }

    /// Recomputes every security's chunks from `daily_bars` and compares them with the stored
    /// ones: `Ok` when they are equal, else an error naming the first security and year that
    /// differ. For tests and checks: it reads every stored bar.
    pub fn verify_close_chunks(&self) -> Result<()> {
        let mut stored = self.conn.prepare("SELECT first_day, points FROM close_chunks WHERE symbol = ?1 AND year = ?2")?;
        let mut expected_count: i64 = 0;
        walk_chunks(&self.conn, |symbol, chunks| {
            for chunk in chunks {
                expected_count += 1;
                let found: Option<(i32, Vec<u8>)> =
                    stored.query_row(params![symbol, chunk.year], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                if found.as_ref() != Some(&(chunk.first_day, chunk.points)) {
                    return Err(StoreError::Conflict(format!(
                        "close_chunks: {symbol} {} {} what daily_bars holds",
                        chunk.year,
                        if found.is_some() { "differs from" } else { "is missing; it should hold" }
                    )));
                }
            }
            Ok(())
        })?;
        let stored_count: i64 = self.conn.query_row("SELECT COUNT(*) FROM close_chunks", [], |r| r.get(0))?;
        if stored_count != expected_count {
            let (symbol, year): (String, i32) = self.conn.query_row(
                "SELECT symbol, year FROM close_chunks c WHERE NOT EXISTS
                   (SELECT 1 FROM daily_bars b WHERE b.symbol = c.symbol AND b.date >= printf('%04d-01-01', c.year)
                      AND b.date <= printf('%04d-12-31', c.year)) LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            return Err(StoreError::Conflict(format!("close_chunks: {symbol} {year} has no bars in daily_bars")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::migrations;

    #[test]
    fn migration_7_packs_the_bars_stored_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let mut conn = Connection::open(&path).unwrap();
        migrations().to_version(&mut conn, 6).unwrap();
        conn.execute_batch(
            "INSERT INTO securities (symbol, market, currency, kind) VALUES ('600941.SH', 'SH', 'CNY', 'stock'), ('0700.HK', 'HK', 'HKD', 'stock');
             INSERT INTO daily_bars (symbol, date, close, adj_close, adj_basis, source, fetched_at) VALUES
               ('600941.SH', '2022-12-30', 1.0, 1.5, 'imported', 'csv', '2023-01-01T00:00:00Z'),
               ('600941.SH', '2023-01-03', 1.0, 2.0, 'imported', 'csv', '2023-01-01T00:00:00Z'),
               ('600941.SH', '2023-01-04', 1.0, 2.25, 'imported', 'csv', '2023-01-01T00:00:00Z'),
               ('0700.HK', '2023-01-03', 1.0, 300.0, 'imported', 'csv', '2023-01-01T00:00:00Z');",
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        store.verify_close_chunks().unwrap();
        // 2023-01-01 is day 53 × 365 + 13 leap days = 19358, so 2022-12-30 is 19356 = 0x4B9C;
        // 1.5 is 0x3FF8_0000_0000_0000. Little-endian, date then close.
        let (first_day, points): (i32, Vec<u8>) = store
            .conn
            .query_row("SELECT first_day, points FROM close_chunks WHERE symbol = '600941.SH' AND year = 2022", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((first_day, points), (19356, vec![0x9C, 0x4B, 0, 0, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F]));
        let chunks: Vec<(String, i32, i64)> = store
            .conn
            .prepare("SELECT symbol, year, length(points) FROM close_chunks ORDER BY symbol, year")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(chunks, vec![("0700.HK".into(), 2023, 12), ("600941.SH".into(), 2022, 12), ("600941.SH".into(), 2023, 24)]);
    }
}

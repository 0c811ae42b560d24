//! The reads the analysis needs: the closes of a set of securities, each from its as-of base
//! onwards, in one statement per table. Companies and indices are read from `close_chunks`
//! (their closes packed one row per calendar year, see `store/chunks.rs`): a security is one
//! seek on the `(symbol, year)` key for its base year and one range of the same key, so a
//! 5,000-company verdict reads about 5,000 rows, not the 640,000 bars they pack. FX pairs
//! (a few series) are read from `fx_rates` the same way, row by row. Never a table scan,
//! never one statement per security.

use chrono::{Datelike, NaiveDate};
use rusqlite::params;

use super::chunks::{column, day_number, read_date, unpack, window};
use super::{Result, Store};
use crate::symbol::Symbol;

/// A security's closes, oldest first, as `(date, value)`.
pub type ClosePoints = Vec<(NaiveDate, f64)>;

/// A security's closes, oldest first: `values[i]` is the close of `dates[i]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CloseColumns {
    pub dates: Vec<NaiveDate>,
    pub values: Vec<f64>,
}

impl CloseColumns {
    /// The points [`Store::close_columns_from_as_of`] answers for `start..=end` out of these
    /// (oldest first): from the latest on or before `start` (when there is none, the first in
    /// `start..=end`) through the last on or before `end`. Columns read for a wider window
    /// (an earlier start, a later end) give the same points as a read of this one: what
    /// `pipeline::score_ratings` relies on when it reads a company once for all its calls.
    pub fn as_of_range(&self, start: NaiveDate, end: NaiveDate) -> std::ops::Range<usize> {
        let dates = &self.dates;
        let base = dates.partition_point(|&date| date <= start).saturating_sub(1);
        let lower = dates.get(base).map_or(start, |&date| date.min(start));
        let first = dates.partition_point(|&date| date < lower);
        let past_end = dates.partition_point(|&date| date <= end).max(first);
        first..past_end
    }

    /// The points of [`CloseColumns::as_of_range`], copied.
    pub fn as_of_window(&self, start: NaiveDate, end: NaiveDate) -> CloseColumns {
        let range = self.as_of_range(start, end);
        CloseColumns { dates: self.dates[range.clone()].to_vec(), values: self.values[range].to_vec() }
    }
}

/// `?1` is a JSON array of symbols: `json_each` walks it, and its `key` (the array index) says
/// whose row each result is without a string lookup. `?2` is the start as days since
/// 1970-01-01, `?3` its year, `?4` the last year wanted. A security's base chunk is the latest
/// one holding a close on or before the start: the start's year when its first close is on
/// or before it, else the latest earlier year (a security suspended over the start). It is
/// found with a seek (`ORDER BY year DESC LIMIT 1` on the primary key, reading `first_day`
/// only), evaluated once per symbol as the lower bound of its range of chunks.
const CHUNKS_SQL: &str = "SELECT wanted.key, c.year, c.points
     FROM json_each(?1) AS wanted
     JOIN close_chunks AS c ON c.symbol = wanted.value
     WHERE c.year <= ?4 AND c.year >= COALESCE(
         (SELECT year FROM close_chunks WHERE symbol = wanted.value AND year <= ?3 AND (year < ?3 OR first_day <= ?2)
          ORDER BY year DESC LIMIT 1), ?3)";
/// FX pairs give their rate, read row by row: the base date is found with a seek on the
/// `(pair, date)` key and is the lower bound of the pair's range.
const RATES_SQL: &str = "SELECT wanted.key, r.date, r.rate
     FROM json_each(?1) AS wanted
     JOIN fx_rates AS r ON r.pair = wanted.value
     WHERE r.date <= ?3 AND r.date >= COALESCE(
         (SELECT date FROM fx_rates WHERE pair = wanted.value AND date <= ?2 ORDER BY date DESC LIMIT 1), ?2)";

impl Store {
    /// For each of `symbols`, in the same order: its closes from its latest close on or
    /// before `start` through `end`, oldest first — the base close as of `start`, then every
    /// close after it. When nothing is stored on or before `start`, the closes in
    /// `start..=end`; when nothing is stored in that window, none. Companies give their
    /// adjusted close, indices their close (stored as published in `adj_close` too), FX pairs
    /// their rate.
    pub fn closes_from_as_of(&self, symbols: &[Symbol], start: NaiveDate, end: NaiveDate) -> Result<Vec<(Symbol, ClosePoints)>> {
        Ok(self
            .close_columns_from_as_of(symbols, start, end)?
            .into_iter()
            .map(|(symbol, columns)| (symbol, columns.dates.into_iter().zip(columns.values).collect()))
            .collect())
    }

    /// [`Store::closes_from_as_of`] as columns, the form the analysis keeps them in (no
    /// intermediate vector of pairs for 640,000 closes).
    pub fn close_columns_from_as_of(&self, symbols: &[Symbol], start: NaiveDate, end: NaiveDate) -> Result<Vec<(Symbol, CloseColumns)>> {
        let mut closes: Vec<(Symbol, CloseColumns)> = symbols.iter().map(|symbol| (symbol.clone(), CloseColumns::default())).collect();
        // Points after both bounds are never kept (the base is on or before `start`).
        let last = start.max(end);
        for fx in [false, true] {
            let indices: Vec<usize> = (0..symbols.len()).filter(|&i| symbols[i].is_fx() == fx).collect();
            if indices.is_empty() {
                continue;
            }
            let wanted = serde_json::Value::from(indices.iter().map(|&i| symbols[i].to_string()).collect::<Vec<_>>()).to_string();
            let position = |key: i64| {
                usize::try_from(key).ok().and_then(|key| indices.get(key)).copied().ok_or({
                    rusqlite::Error::IntegralValueOutOfRange(0, key) // json_each numbers the array from 0
                })
            };
            if fx {
                let mut stmt = self.conn.prepare_cached(RATES_SQL)?;
                let mut rows = stmt.query(params![wanted, start, end])?;
                while let Some(row) = rows.next()? {
                    let columns = &mut closes[position(row.get(0)?)?].1;
                    columns.dates.push(column(row, 1, read_date)?);
                    columns.values.push(row.get(2)?);
                }
            } else {
                let mut stmt = self.conn.prepare_cached(CHUNKS_SQL)?;
                let mut rows = stmt.query(params![wanted, day_number(start), start.year(), last.year()])?;
                while let Some(row) = rows.next()? {
                    let (symbol, columns) = &mut closes[position(row.get(0)?)?];
                    // Only the points from a base candidate through `last` are unpacked.
                    let points = window(column(row, 2, |value| value.as_blob())?, day_number(start), day_number(last));
                    columns.dates.reserve(points.len() / 12);
                    columns.values.reserve(points.len() / 12);
                    for point in unpack(&*symbol, row.get(1)?, points) {
                        let (date, value) = point?;
                        columns.dates.push(date);
                        columns.values.push(value);
                    }
                }
            }
        }
        for (_, columns) in &mut closes {
            // Rows come grouped and in key order from the nested seeks, but SQL promises no
            // order without ORDER BY (whose sort the plan would show as a temporary B-tree):
            // check here, and sort what is not in order.
            if !columns.dates.is_sorted() {
                let mut points: ClosePoints = columns.dates.iter().copied().zip(columns.values.iter().copied()).collect();
                points.sort_unstable_by_key(|&(date, _)| date);
                (columns.dates, columns.values) = points.into_iter().unzip();
            }
            // Earlier chunks may hold closes before the base, and `last` may be after `end`.
            let std::ops::Range { start: first, end: past_end } = columns.as_of_range(start, end);
            columns.dates.truncate(past_end);
            columns.dates.drain(..first);
            columns.values.truncate(past_end);
            columns.values.drain(..first);
        }
        Ok(closes)
    }

    /// The same answer as [`Store::closes_from_as_of`] for companies and indices, read row by
    /// row from `daily_bars` (the read the chunks replaced), for the test that both agree.
    #[cfg(test)]
    fn closes_from_bars(&self, symbols: &[Symbol], start: NaiveDate, end: NaiveDate) -> Result<Vec<(Symbol, ClosePoints)>> {
        let mut stmt = self.conn.prepare(
            "SELECT b.date, b.adj_close FROM daily_bars AS b WHERE b.symbol = ?1 AND b.date <= ?3 AND b.date >= COALESCE(
                 (SELECT date FROM daily_bars WHERE symbol = ?1 AND date <= ?2 ORDER BY date DESC LIMIT 1), ?2)
             ORDER BY b.date",
        )?;
        symbols
            .iter()
            .map(|symbol| {
                let rows = stmt.query_map(params![symbol.to_string(), start, end], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok((symbol.clone(), rows.collect::<rusqlite::Result<_>>()?))
            })
            .collect()
    }

    /// The query plans of [`Store::closes_from_as_of`] (chunks, then rates), for the test that
    /// they never scan a table.
    #[cfg(test)]
    fn closes_plans(&self) -> Result<Vec<Vec<String>>> {
        let plan = |sql: &str, params: &[&dyn rusqlite::ToSql]| -> Result<Vec<String>> {
            let mut stmt = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt.query_map(params, |r| r.get::<_, String>(3))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        Ok(vec![
            plan(CHUNKS_SQL, params![r#"["600941.SH"]"#, 19402, 2023, 2023])?,
            plan(RATES_SQL, params![r#"["USDCNY.FX"]"#, "2023-02-14", "2023-08-14"])?,
        ])
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, Utc};

    use super::*;
    use crate::catalog::parse_report;
    use crate::prices::{AdjBasis, Bar};
    use crate::store::SeriesWrite;

    fn d(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, month, day).unwrap()
    }

    fn seeded() -> Store {
        let mut store = Store::open_in_memory().unwrap();
        let report =
            parse_report(std::path::Path::new("seed.toml"), include_str!("../../data/reports/zheshang-2023-02-14-chatgpt.toml")).unwrap();
        store.load_report(&report, Utc::now()).unwrap();
        store
    }

    fn bar(date: NaiveDate, close: f64, adj_close: f64) -> Bar {
        Bar { adj_close, ..Bar::close_only(date, close) }
    }

    fn sym(text: &str) -> Symbol {
        Symbol::parse(text).unwrap()
    }

    #[test]
    fn closes_start_at_the_as_of_base_and_use_adjusted_closes() {
        let mut store = seeded();
        let symbol = sym("600941.SH");
        let bars = [bar(d(2, 1), 9.0, 90.0), bar(d(2, 10), 10.0, 100.0), bar(d(2, 15), 11.0, 110.0), bar(d(9, 1), 12.0, 120.0)];
        store.upsert_bars(&SeriesWrite::new(&symbol, &bars, "csv", AdjBasis::Imported, d(12, 31), Utc::now())).unwrap();
        let one = |start, end| store.closes_from_as_of(std::slice::from_ref(&symbol), start, end).unwrap().remove(0);
        // 2-14 has no bar: the base is 2-10's; 2-1 is before it and 9-1 after the end.
        assert_eq!(one(d(2, 14), d(8, 14)), (symbol.clone(), vec![(d(2, 10), 100.0), (d(2, 15), 110.0)]));
        // Nothing on or before 1-15: the range from 1-15 on.
        assert_eq!(one(d(1, 15), d(2, 12)), (symbol.clone(), vec![(d(2, 1), 90.0), (d(2, 10), 100.0)]));
        // A window before anything stored, and one after the base with no close inside it.
        assert_eq!(one(d(1, 1), d(1, 31)).1, vec![]);
        assert_eq!(one(d(2, 16), d(8, 31)).1, vec![(d(2, 15), 110.0)], "the base alone");
    }

    #[test]
    fn many_symbols_in_one_call_keep_their_order_and_their_own_bases() {
        let mut store = seeded();
        let (mobile, tencent, usd) = (sym("600941.SH"), sym("0700.HK"), sym("USDCNY.FX"));
        // Different calendars: 600941.SH's base as of 2-14 is 2-14 itself, 0700.HK's is 2-10.
        let mobile_bars = [bar(d(2, 13), 9.0, 90.0), bar(d(2, 14), 10.0, 100.0), bar(d(2, 16), 11.0, 110.0)];
        let tencent_bars = [bar(d(2, 9), 300.0, 300.0), bar(d(2, 10), 301.0, 301.0), bar(d(2, 17), 302.0, 302.0)];
        let rates = [Bar::close_only(d(2, 13), 6.8), Bar::close_only(d(2, 15), 6.9), Bar::close_only(d(2, 20), 7.0)];
        store.upsert_bars(&SeriesWrite::new(&mobile, &mobile_bars, "csv", AdjBasis::Imported, d(12, 31), Utc::now())).unwrap();
        store.upsert_bars(&SeriesWrite::new(&tencent, &tencent_bars, "csv", AdjBasis::Imported, d(12, 31), Utc::now())).unwrap();
        store.upsert_bars(&SeriesWrite::new(&usd, &rates, "csv", AdjBasis::None, d(12, 31), Utc::now())).unwrap();
        let nothing = sym("688041.SH"); // a company of the seed with no prices stored
        let asked = [usd.clone(), tencent.clone(), nothing.clone(), mobile.clone()];
        let closes = store.closes_from_as_of(&asked, d(2, 14), d(2, 17)).unwrap();
        assert_eq!(
            closes,
            vec![
                (usd, vec![(d(2, 13), 6.8), (d(2, 15), 6.9)]),
                (tencent, vec![(d(2, 10), 301.0), (d(2, 17), 302.0)]),
                (nothing, vec![]),
                (mobile, vec![(d(2, 14), 100.0), (d(2, 16), 110.0)]),
            ]
        );
        assert_eq!(store.closes_from_as_of(&[], d(2, 14), d(2, 17)).unwrap(), vec![]);
    }

    #[test]
    fn reads_are_index_seeks_not_scans() {
        // The plans pinned whole (the bundled SQLite is pinned by Cargo.lock): the one loop is
        // over the symbols asked for (`wanted`, the JSON array); for each, a search of the
        // primary key for its range (of years in `close_chunks`, of dates in `fx_rates`), whose
        // lower bound is a second search for its base. No table scan, no temporary B-tree.
        let store = seeded();
        let plans = store.closes_plans().unwrap();
        let expected = |alias: &str, table: &str, using: &str, key: &str, order: &str| {
            vec![
                "SCAN wanted VIRTUAL TABLE INDEX 1:".to_string(),
                format!("SEARCH {alias} USING {using} ({key}=? AND {order}>? AND {order}<?)"),
                "CORRELATED SCALAR SUBQUERY 1".to_string(),
                format!("SEARCH {table} USING {using} ({key}=? AND {order}<?)"),
            ]
        };
        // `close_chunks` is a rowid table: its key is the index behind PRIMARY KEY.
        assert_eq!(
            plans,
            vec![
                expected("c", "close_chunks", "INDEX sqlite_autoindex_close_chunks_1", "symbol", "year"),
                expected("r", "fx_rates", "PRIMARY KEY", "pair", "date")
            ]
        );
    }

    #[test]
    fn dates_are_stored_as_iso_text() {
        // The on-disk format predates the chrono conversions: `YYYY-MM-DD` text that sorts
        // chronologically. Reading it back goes through the same conversion.
        let mut store = seeded();
        let symbol = sym("600941.SH");
        store
            .upsert_bars(&SeriesWrite::new(&symbol, &[bar(d(2, 3), 9.0, 90.0)], "csv", AdjBasis::Imported, d(12, 31), Utc::now()))
            .unwrap();
        let (text, kind): (String, String) = store
            .conn
            .query_row("SELECT date, typeof(date) FROM daily_bars WHERE symbol = '600941.SH'", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((text.as_str(), kind.as_str()), ("2023-02-03", "text"));
    }

    #[test]
    fn the_fast_date_reader_agrees_with_rusqlites() {
        // Every day of 1990–2040 as stored (rusqlite's `ToSql`) reads back the same both ways,
        // and its day number (the chunks' date) converts back to it.
        let store = Store::open_in_memory().unwrap();
        let mut date = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
        while date.year() <= 2040 {
            let (fast, chrono): (NaiveDate, NaiveDate) =
                store.conn.query_row("SELECT ?1, ?1", [date], |r| Ok((column(r, 0, read_date)?, r.get(1)?))).unwrap();
            assert_eq!((fast, chrono), (date, date));
            date = date.succ_opt().unwrap();
        }
        // 1970-01-01 is day 0; 2023-02-14 is 53 years (13 of them leap) and 44 days later.
        assert_eq!(day_number(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()), 0);
        assert_eq!(day_number(d(2, 14)), 53 * 365 + 13 + 44);
        // Text the fast path does not take goes to rusqlite's conversion: the same answer.
        for other in ["2023-2-14", "2023-02-30", "2023/02/14", "20230214xx", "2023-0a-14", "", "2023-02-14 ", "2023-02-14T10:00:00"] {
            assert_eq!(crate::ids::parse_date_bytes(other.as_bytes()), None, "{other}");
            let (fast, chrono) =
                store.conn.query_row("SELECT ?1", [other], |r| Ok((column(r, 0, read_date).ok(), r.get::<_, NaiveDate>(0).ok()))).unwrap();
            assert_eq!(fast, chrono, "{other}");
        }
        assert!(store.conn.query_row("SELECT 'soon'", [], |r| column(r, 0, read_date)).is_err());
    }

    /// A symbol of the seed report's: companies, the benchmark index.
    fn seeded_symbols() -> Vec<Symbol> {
        ["600941.SH", "0700.HK", "000300.SH", "688041.SH"].iter().map(|s| sym(s)).collect()
    }

    fn day(offset: u16) -> NaiveDate {
        // Offsets count days from 2019-12-20, so random series cross several new years.
        NaiveDate::from_ymd_opt(2019, 12, 20).unwrap() + chrono::Days::new(u64::from(offset))
    }

    fn series(points: &[(u16, u32)]) -> Vec<Bar> {
        let by_day: std::collections::BTreeMap<u16, u32> = points.iter().copied().collect();
        by_day.into_iter().map(|(offset, cents)| bar(day(offset), 1.0, f64::from(cents + 1) / 100.0)).collect()
    }

    fn today() -> NaiveDate {
        day(u16::MAX)
    }

    #[test]
    fn chunked_reads_match_row_reads_in_the_named_cases() {
        let mut store = seeded();
        let (mobile, tencent, index, empty) = (sym("600941.SH"), sym("0700.HK"), sym("000300.SH"), sym("688041.SH"));
        let upsert = |store: &mut Store, symbol: &Symbol, bars: &[Bar]| {
            store.upsert_bars(&SeriesWrite::new(symbol, bars, "csv", AdjBasis::Imported, today(), Utc::now())).unwrap();
            store.verify_close_chunks().unwrap();
        };
        // Day 0 is 2019-12-20, 12 is 2020-01-01, 378 is 2021-01-01, 529 2021-06-01, 743
        // 2022-01-01, 1108 2023-01-01. 600941.SH: 2019-12-20, 2020-01-02, then nothing until
        // 2022-03-01 (suspended over the whole of 2021), then 2023-06-30. 0700.HK: only
        // closes after 2021-06-01 (2021-08-11 and -12).
        upsert(&mut store, &mobile, &[bar(day(0), 1.0, 1.0), bar(day(13), 1.0, 2.0), bar(day(802), 1.0, 3.0), bar(day(1288), 1.0, 4.0)]);
        upsert(&mut store, &tencent, &[bar(day(600), 1.0, 5.0), bar(day(601), 1.0, 6.0)]);
        upsert(&mut store, &index, &series(&[(0, 1), (400, 2), (800, 3), (1200, 4)]));
        let all = [mobile.clone(), tencent.clone(), index.clone(), empty.clone()];
        let both = |store: &Store, start, end| {
            let chunked = store.closes_from_as_of(&all, start, end).unwrap();
            assert_eq!(chunked, store.closes_from_bars(&all, start, end).unwrap(), "{start} to {end}");
            chunked
        };
        // The base in an earlier year, two years back (2021 has no chunk), a multi-year window.
        let closes = both(&store, NaiveDate::from_ymd_opt(2021, 6, 1).unwrap(), NaiveDate::from_ymd_opt(2023, 12, 31).unwrap());
        assert_eq!(closes[0].1, vec![(day(13), 2.0), (day(802), 3.0), (day(1288), 4.0)]);
        // Data only after the start: from the start on, without a base.
        assert_eq!(closes[1].1, vec![(day(600), 5.0), (day(601), 6.0)]);
        // No data at all.
        assert_eq!(closes[3].1, vec![]);
        // Re-upserting a date with a new value, then replace shrinking a series to one close.
        upsert(&mut store, &mobile, &[bar(day(802), 1.0, 30.0)]);
        let closes = both(&store, day(802), day(1288));
        assert_eq!(closes[0].1, vec![(day(802), 30.0), (day(1288), 4.0)]);
        store
            .replace_bars(&SeriesWrite::new(&mobile, &[bar(day(5), 1.0, 7.0)], "yahoo", AdjBasis::YahooAdjclose, today(), Utc::now()))
            .unwrap();
        store.verify_close_chunks().unwrap();
        let closes = both(&store, day(802), day(1288));
        assert_eq!(closes[0].1, vec![(day(5), 7.0)], "the one close left is the base");
        // A start after the end, as the row read answers it.
        both(&store, day(1288), day(400));
    }

    #[test]
    fn a_window_of_a_wider_read_is_the_narrower_read() {
        let mut store = seeded();
        let (mobile, tencent, index, empty, usd) = (sym("600941.SH"), sym("0700.HK"), sym("000300.SH"), sym("688041.SH"), sym("USDCNY.FX"));
        // The named cases' series: 600941.SH suspended over 2021, 0700.HK only from day 600,
        // 688041.SH nothing; and an FX pair (read from `fx_rates`, not `close_chunks`).
        let mobile_bars = [bar(day(0), 1.0, 1.0), bar(day(13), 1.0, 2.0), bar(day(802), 1.0, 3.0), bar(day(1288), 1.0, 4.0)];
        store.upsert_bars(&SeriesWrite::new(&mobile, &mobile_bars, "csv", AdjBasis::Imported, today(), Utc::now())).unwrap();
        let tencent_bars = [bar(day(600), 1.0, 5.0), bar(day(601), 1.0, 6.0)];
        store.upsert_bars(&SeriesWrite::new(&tencent, &tencent_bars, "csv", AdjBasis::Imported, today(), Utc::now())).unwrap();
        store
            .upsert_bars(&SeriesWrite::new(
                &index,
                &series(&[(0, 1), (400, 2), (800, 3), (1200, 4)]),
                "csv",
                AdjBasis::Imported,
                today(),
                Utc::now(),
            ))
            .unwrap();
        let rates = [Bar::close_only(day(5), 6.8), Bar::close_only(day(600), 6.9), Bar::close_only(day(1000), 7.0)];
        store.upsert_bars(&SeriesWrite::new(&usd, &rates, "csv", AdjBasis::None, today(), Utc::now())).unwrap();
        let all = [mobile, tencent, index, empty, usd];
        // Days on, between and around every stored date.
        let grid: Vec<NaiveDate> = [0, 1, 5, 13, 14, 400, 599, 600, 601, 602, 802, 1000, 1200, 1288, 1300].into_iter().map(day).collect();
        let mut checked = 0;
        for (i, &start) in grid.iter().enumerate() {
            for &end in &grid[i..] {
                let narrow = store.close_columns_from_as_of(&all, start, end).unwrap();
                for (wide_start, wide_end) in [(grid[0], *grid.last().unwrap()), (start, *grid.last().unwrap()), (grid[0], end)] {
                    let wide = store.close_columns_from_as_of(&all, wide_start, wide_end).unwrap();
                    for ((symbol, narrow), (_, wide)) in narrow.iter().zip(&wide) {
                        assert_eq!(&wide.as_of_window(start, end), narrow, "{symbol} {start}..={end} out of {wide_start}..={wide_end}");
                        checked += 1;
                    }
                }
            }
        }
        // 15 days give 15·16/2 = 120 windows, each checked out of 3 wider reads for 5 symbols.
        assert_eq!(checked, 120 * 3 * 5);
    }

    #[test]
    fn verify_notices_chunks_that_differ_from_the_bars() {
        let mut store = seeded();
        let mobile = sym("600941.SH");
        store.upsert_bars(&SeriesWrite::new(&mobile, &series(&[(0, 1), (20, 2)]), "csv", AdjBasis::Imported, today(), Utc::now())).unwrap();
        store.verify_close_chunks().unwrap();
        // A bar written behind the chunks' back (not through the store's writes).
        store.conn.execute("UPDATE daily_bars SET adj_close = 9.5 WHERE symbol = '600941.SH' AND date = '2020-01-09'", []).unwrap();
        let error = store.verify_close_chunks().unwrap_err().to_string();
        assert!(error.contains("600941.SH 2020"), "{error}");
        // A chunk left behind for a year without bars.
        store.upsert_bars(&SeriesWrite::new(&mobile, &series(&[(20, 3)]), "csv", AdjBasis::Imported, today(), Utc::now())).unwrap();
        store.verify_close_chunks().unwrap();
        store.conn.execute("DELETE FROM daily_bars WHERE symbol = '600941.SH' AND date < '2020-01-01'", []).unwrap();
        let error = store.verify_close_chunks().unwrap_err().to_string();
        assert!(error.contains("600941.SH 2019 has no bars"), "{error}");
    }

    #[test]
    fn a_corrupt_chunk_is_an_error_naming_the_security() {
        let mut store = seeded();
        let mobile = sym("600941.SH");
        store.upsert_bars(&SeriesWrite::new(&mobile, &series(&[(20, 3)]), "csv", AdjBasis::Imported, today(), Utc::now())).unwrap();
        // Points of a chunk moved to another year, then a blob that is not whole points.
        store.conn.execute("UPDATE close_chunks SET year = year + 1", []).unwrap();
        let error = store.closes_from_as_of(std::slice::from_ref(&mobile), day(0), day(800)).unwrap_err().to_string();
        assert!(error.contains("600941.SH: a stored close chunk is corrupt"), "{error}");
        store.conn.execute("UPDATE close_chunks SET points = x'0102030405', year = year - 1", []).unwrap();
        let error = store.closes_from_as_of(&[mobile], day(0), day(30)).unwrap_err().to_string();
        assert!(error.contains("600941.SH: a stored close chunk is corrupt"), "{error}");
    }

    /// One write of a random series: `true` replaces the whole series.
    type Write = (bool, Vec<(u16, u32)>);

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        #[test]
        fn chunked_reads_match_row_reads(
            writes in proptest::collection::vec(
                (0usize..4, proptest::bool::weighted(0.2), proptest::collection::vec((0u16..1500, 0u32..100_000), 0..40)),
                0..10,
            ),
            windows in proptest::collection::vec((0u16..1600, 0u16..1600), 1..6),
        ) {
            let mut store = seeded();
            let symbols = seeded_symbols();
            for (which, replace, points) in writes {
                let (replace, points): Write = (replace, points);
                let bars = series(&points);
                let symbol = &symbols[which];
                if replace {
                    store.replace_bars(&SeriesWrite::new(symbol, &bars, "csv", AdjBasis::Imported, today(), Utc::now())).unwrap();
                } else {
                    store.upsert_bars(&SeriesWrite::new(symbol, &bars, "csv", AdjBasis::Imported, today(), Utc::now())).unwrap();
                }
                store.verify_close_chunks().unwrap();
            }
            for (start, length) in windows {
                let (start, end) = (day(start), day(start.saturating_add(length)));
                proptest::prop_assert_eq!(
                    store.closes_from_as_of(&symbols, start, end).unwrap(),
                    store.closes_from_bars(&symbols, start, end).unwrap()
                );
            }
        }
    }
}

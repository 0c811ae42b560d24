//! The reads the analysis needs: a security's closes from its as-of base onwards, and
//! nothing more (index seeks on the `(symbol, date)` primary key, never a table scan).

use chrono::NaiveDate;
use rusqlite::params;

use super::{Result, Store, date_text};
use crate::symbol::Symbol;

impl Store {
    /// `symbol`'s closes from its latest close on or before `start` through `end`, oldest
    /// first: the base close as of `start`, then every close after it. When nothing is
    /// stored on or before `start`, the closes in `start..=end`. Companies give their
    /// adjusted close, indices their close (stored as published), FX pairs their rate.
    pub fn closes_from_as_of(&self, symbol: &Symbol, start: NaiveDate, end: NaiveDate) -> Result<Vec<(NaiveDate, f64)>> {
        // The base date is found with a seek (ORDER BY date DESC LIMIT 1 on the primary key),
        // then the rows are one range of the same index.
        let sql = if symbol.is_fx() {
            "SELECT date, rate FROM fx_rates
             WHERE pair = ?1 AND date <= ?3 AND date >= COALESCE(
                 (SELECT date FROM fx_rates WHERE pair = ?1 AND date <= ?2 ORDER BY date DESC LIMIT 1), ?2)
             ORDER BY date"
        } else {
            "SELECT date, adj_close FROM daily_bars
             WHERE symbol = ?1 AND date <= ?3 AND date >= COALESCE(
                 (SELECT date FROM daily_bars WHERE symbol = ?1 AND date <= ?2 ORDER BY date DESC LIMIT 1), ?2)
             ORDER BY date"
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![symbol.to_string(), date_text(start), date_text(end)], |row| {
            let date = row.get_ref(0)?.as_str()?;
            Ok((parse_iso_date(date).ok_or_else(|| bad_date(date))?, row.get::<_, f64>(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The query plan of [`Store::closes_from_as_of`], for the test that it never scans.
    #[cfg(test)]
    fn closes_plan(&self, symbol: &Symbol) -> Result<Vec<String>> {
        let table = if symbol.is_fx() { "fx_rates" } else { "daily_bars" };
        let key = if symbol.is_fx() { "pair" } else { "symbol" };
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT date FROM {table} WHERE {key} = ?1 AND date <= ?3 AND date >= COALESCE(
                 (SELECT date FROM {table} WHERE {key} = ?1 AND date <= ?2 ORDER BY date DESC LIMIT 1), ?2) ORDER BY date"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![symbol.to_string(), "2023-02-14", "2023-08-14"], |r| r.get::<_, String>(3))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// `2023-02-14` without a format parser: hundreds of thousands of rows are read per verdict.
fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range].iter().try_fold(0u32, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0')))
    };
    NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)
}

fn bad_date(text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, format!("`{text}` is not a date like 2023-02-14").into())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::catalog::parse_report;
    use crate::prices::{AdjBasis, Bar};

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

    #[test]
    fn closes_start_at_the_as_of_base_and_use_adjusted_closes() {
        let mut store = seeded();
        let symbol = Symbol::parse("600941.SH").unwrap();
        let bars = [bar(d(2, 1), 9.0, 90.0), bar(d(2, 10), 10.0, 100.0), bar(d(2, 15), 11.0, 110.0), bar(d(9, 1), 12.0, 120.0)];
        store.upsert_bars(&symbol, &bars, "csv", AdjBasis::Imported, d(12, 31), Utc::now()).unwrap();
        // 2-14 has no bar: the base is 2-10's; 2-1 is before it and 9-1 after the end.
        assert_eq!(store.closes_from_as_of(&symbol, d(2, 14), d(8, 14)).unwrap(), vec![(d(2, 10), 100.0), (d(2, 15), 110.0)]);
        // Nothing on or before 1-15: the range from 1-15 on.
        assert_eq!(store.closes_from_as_of(&symbol, d(1, 15), d(2, 12)).unwrap(), vec![(d(2, 1), 90.0), (d(2, 10), 100.0)]);
        assert_eq!(store.closes_from_as_of(&Symbol::parse("0700.HK").unwrap(), d(2, 14), d(8, 14)).unwrap(), vec![]);
    }

    #[test]
    fn fx_rates_come_from_their_own_table() {
        let mut store = seeded();
        let pair = Symbol::parse("HKDCNY.FX").unwrap();
        let rates = [Bar::close_only(d(2, 13), 0.87), Bar::close_only(d(2, 16), 0.88)];
        store.upsert_bars(&pair, &rates, "csv", AdjBasis::None, d(12, 31), Utc::now()).unwrap();
        assert_eq!(store.closes_from_as_of(&pair, d(2, 14), d(2, 20)).unwrap(), vec![(d(2, 13), 0.87), (d(2, 16), 0.88)]);
    }

    #[test]
    fn reads_are_index_seeks_not_scans() {
        let store = seeded();
        for symbol in ["600941.SH", "USDCNY.FX"] {
            let plan = store.closes_plan(&Symbol::parse(symbol).unwrap()).unwrap();
            assert!(plan.iter().all(|step| !step.starts_with("SCAN")), "{symbol}: {plan:?}");
            assert!(plan.iter().filter(|step| step.starts_with("SEARCH")).count() >= 2, "{symbol}: {plan:?}");
        }
    }

    #[test]
    fn iso_dates_parse_fast_and_strictly() {
        assert_eq!(parse_iso_date("2023-02-14"), Some(d(2, 14)));
        for bad in ["2023-2-14", "2023-02-30", "2023/02/14", "20230214xx", "2023-0a-14"] {
            assert_eq!(parse_iso_date(bad), None, "{bad}");
        }
    }
}

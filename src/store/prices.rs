//! Daily bars and FX rates.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Result, Store, StoreError, time_text};
use crate::prices::{AdjBasis, Bar, validate_series};
use crate::symbol::Symbol;

/// What a write did to a security's stored series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WriteStats {
    /// Bars for dates that were not stored before.
    pub added: usize,
    /// Bars that replaced a stored bar of the same date.
    pub replaced: usize,
}

/// One security's series as [`Store::upsert_bars`] and [`Store::replace_bars`] take it: the
/// bars, who sent them and on what adjustment basis, the day that bounds them (no bar after
/// `today`) and the time their rows are stamped with.
#[derive(Clone, Copy, Debug)]
pub struct SeriesWrite<'a> {
    pub symbol: &'a Symbol,
    pub bars: &'a [Bar],
    pub source: &'a str,
    pub basis: AdjBasis,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

impl<'a> SeriesWrite<'a> {
    pub fn new(symbol: &'a Symbol, bars: &'a [Bar], source: &'a str, basis: AdjBasis, today: NaiveDate, now: DateTime<Utc>) -> Self {
        SeriesWrite { symbol, bars, source, basis, today, now }
    }
}

/// Where a security's stored series stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SecurityState {
    pub symbol: Symbol,
    pub listed_on: Option<NaiveDate>,
    pub adj_basis: Option<AdjBasis>,
    pub adj_source: Option<String>,
    pub bars: Option<BarStats>,
    /// Who wrote the latest stored bar and when (`source`, `fetched_at`): a sync rewrites the
    /// latest bar each time it asks, so this is when the series was last checked.
    pub last_fetch: Option<(String, DateTime<Utc>)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BarStats {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub count: usize,
}

fn read_bar(r: &rusqlite::Row<'_>) -> rusqlite::Result<Bar> {
    Ok(Bar { date: r.get(0)?, open: r.get(1)?, high: r.get(2)?, low: r.get(3)?, close: r.get(4)?, volume: r.get(5)?, adj_close: r.get(6)? })
}

const BAR_COLUMNS: &str = "date, open, high, low, close, volume, adj_close";
const FX_COLUMNS: &str = "date, NULL, NULL, NULL, rate, NULL, rate";

impl Store {
    fn require_security(tx: &rusqlite::Transaction<'_>, symbol: &Symbol) -> Result<()> {
        let known: Option<i64> =
            tx.query_row("SELECT 1 FROM securities WHERE symbol = ?1", [symbol.to_string()], |r| r.get(0)).optional()?;
        if known.is_none() {
            return Err(StoreError::NotFound(format!("{symbol} is not a tracked security (add it with `ratingwatch watchlist add`)")));
        }
        Ok(())
    }

    /// Writes bars for one security in one transaction, overwriting stored bars of the same
    /// dates (revisions win). When `basis` or `source` differs from the security's current
    /// adjusted series, the call fails: use [`Store::replace_bars`] to switch series whole.
    pub fn upsert_bars(&mut self, series: &SeriesWrite<'_>) -> Result<WriteStats> {
        let SeriesWrite { symbol, source, basis, .. } = *series;
        self.write_series(series, |tx| {
            let (current_basis, current_source): (Option<String>, Option<String>) =
                tx.query_row("SELECT adj_basis, adj_source FROM securities WHERE symbol = ?1", [symbol.to_string()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            let has_bars = Store::count_in(tx, symbol)? > 0;
            if has_bars && (current_basis.as_deref() != Some(basis.as_str()) || current_source.as_deref() != Some(source)) {
                return Err(StoreError::Conflict(format!(
                    "{symbol}: stored adjusted series is {} from {}; refusing to mix in {basis} from {source} (re-fetch the full history)",
                    current_basis.as_deref().unwrap_or("unknown"),
                    current_source.as_deref().unwrap_or("unknown"),
                )));
            }
            Store::write_rows(tx, series)
        })
    }

    /// Replaces a security's whole stored series with `bars` in one transaction: the way to
    /// switch provider or adjustment basis without ever mixing two adjusted series.
    pub fn replace_bars(&mut self, series: &SeriesWrite<'_>) -> Result<WriteStats> {
        let symbol = series.symbol;
        self.write_series(series, |tx| {
            let before = Store::count_in(tx, symbol)?;
            if symbol.is_fx() {
                tx.execute("DELETE FROM fx_rates WHERE pair = ?1", [symbol.to_string()])?;
            } else {
                tx.execute("DELETE FROM daily_bars WHERE symbol = ?1", [symbol.to_string()])?;
                // The chunks follow the bars: `write_rows` rebuilds the years of the new ones.
                tx.execute("DELETE FROM close_chunks WHERE symbol = ?1", [symbol.to_string()])?;
            }
            let mut stats = Store::write_rows(tx, series)?;
            // Dates present before count as replaced, the rest as added.
            stats.replaced = before.min(series.bars.len());
            stats.added = series.bars.len() - stats.replaced;
            Ok(stats)
        })
    }

    /// The gate of both series writes: the bars must pass [`validate_series`] and the symbol
    /// must be tracked before `apply` runs, in one write transaction; otherwise nothing is written.
    fn write_series(
        &mut self,
        series: &SeriesWrite<'_>,
        apply: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<WriteStats>,
    ) -> Result<WriteStats> {
        let symbol = series.symbol;
        validate_series(series.bars, series.today).map_err(|source| StoreError::InvalidBars { symbol: symbol.to_string(), source })?;
        self.write(|tx| {
            Store::require_security(tx, symbol)?;
            apply(tx)
        })
    }

    fn count_in(tx: &rusqlite::Transaction<'_>, symbol: &Symbol) -> Result<usize> {
        let sql = if symbol.is_fx() {
            "SELECT COUNT(*) FROM fx_rates WHERE pair = ?1"
        } else {
            "SELECT COUNT(*) FROM daily_bars WHERE symbol = ?1"
        };
        Ok(tx.query_row(sql, [symbol.to_string()], |r| r.get::<_, i64>(0))? as usize)
    }

    fn write_rows(tx: &rusqlite::Transaction<'_>, series: &SeriesWrite<'_>) -> Result<WriteStats> {
        let SeriesWrite { symbol, bars, source, basis, now, .. } = *series;
        let symbol_text = symbol.to_string();
        let fetched_at = time_text(now);
        // Counting before and after is one index range scan each, cheaper than a lookup per row.
        let before = Store::count_in(tx, symbol)?;
        if symbol.is_fx() {
            let mut insert = tx.prepare_cached(
                "INSERT INTO fx_rates (pair, date, rate, source, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (pair, date) DO UPDATE SET rate = excluded.rate, source = excluded.source, fetched_at = excluded.fetched_at",
            )?;
            for bar in bars {
                insert.execute(params![symbol_text, bar.date, bar.close, source, fetched_at])?;
            }
        } else {
            let mut insert = tx.prepare_cached(
                "INSERT INTO daily_bars (symbol, date, open, high, low, close, volume, adj_close, adj_basis, source, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                 ON CONFLICT (symbol, date) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
                   close = excluded.close, volume = excluded.volume, adj_close = excluded.adj_close,
                   adj_basis = excluded.adj_basis, source = excluded.source, fetched_at = excluded.fetched_at",
            )?;
            for bar in bars {
                insert.execute(params![
                    symbol_text,
                    bar.date,
                    bar.open,
                    bar.high,
                    bar.low,
                    bar.close,
                    bar.volume,
                    bar.adj_close,
                    basis.as_str(),
                    source,
                    fetched_at
                ])?;
            }
            // The packed closes of the years written, in this same transaction (store/chunks.rs).
            Store::rebuild_chunks(tx, symbol, bars.iter().map(|bar| bar.date.year()))?;
        }
        tx.execute(
            "UPDATE securities SET adj_basis = ?2, adj_source = ?3 WHERE symbol = ?1",
            params![symbol_text, basis.as_str(), source],
        )?;
        let added = Store::count_in(tx, symbol)? - before;
        Ok(WriteStats { added, replaced: bars.len() - added })
    }

    /// Stored bars of `symbol` with `from <= date <= to`, oldest first.
    pub fn bars(&self, symbol: &Symbol, from: NaiveDate, to: NaiveDate) -> Result<Vec<Bar>> {
        let sql = if symbol.is_fx() {
            format!("SELECT {FX_COLUMNS} FROM fx_rates WHERE pair = ?1 AND date BETWEEN ?2 AND ?3 ORDER BY date")
        } else {
            format!("SELECT {BAR_COLUMNS} FROM daily_bars WHERE symbol = ?1 AND date BETWEEN ?2 AND ?3 ORDER BY date")
        };
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![symbol.to_string(), from, to], read_bar)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every stored bar of `symbol`, oldest first.
    pub fn all_bars(&self, symbol: &Symbol) -> Result<Vec<Bar>> {
        // Text bounds must stay four-digit years: NaiveDate::MAX renders as `+262142-…`.
        let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or_default();
        let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default();
        self.bars(symbol, first, last)
    }

    /// The latest bar on or before `date` (an index seek, never a scan).
    pub fn bar_as_of(&self, symbol: &Symbol, date: NaiveDate) -> Result<Option<Bar>> {
        let sql = if symbol.is_fx() {
            format!("SELECT {FX_COLUMNS} FROM fx_rates WHERE pair = ?1 AND date <= ?2 ORDER BY date DESC LIMIT 1")
        } else {
            format!("SELECT {BAR_COLUMNS} FROM daily_bars WHERE symbol = ?1 AND date <= ?2 ORDER BY date DESC LIMIT 1")
        };
        Ok(self.conn.prepare_cached(&sql)?.query_row(params![symbol.to_string(), date], read_bar).optional()?)
    }

    /// First and last stored dates and the count, or `None` when nothing is stored.
    pub fn bar_stats(&self, symbol: &Symbol) -> Result<Option<BarStats>> {
        let sql = if symbol.is_fx() {
            "SELECT MIN(date), MAX(date), COUNT(*) FROM fx_rates WHERE pair = ?1"
        } else {
            "SELECT MIN(date), MAX(date), COUNT(*) FROM daily_bars WHERE symbol = ?1"
        };
        let (first, last, count): (Option<NaiveDate>, Option<NaiveDate>, i64) =
            self.conn.query_row(sql, [symbol.to_string()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        match (first, last) {
            (Some(first), Some(last)) => Ok(Some(BarStats { first, last, count: count as usize })),
            _ => Ok(None),
        }
    }

    pub fn security_state(&self, symbol: &Symbol) -> Result<SecurityState> {
        let row: Option<(Option<NaiveDate>, Option<String>, Option<String>)> = self
            .conn
            .query_row("SELECT listed_on, adj_basis, adj_source FROM securities WHERE symbol = ?1", [symbol.to_string()], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((listed_on, adj_basis, adj_source)) = row else {
            return Err(StoreError::NotFound(format!("{symbol} is not a tracked security")));
        };
        Ok(SecurityState {
            symbol: symbol.clone(),
            listed_on,
            adj_basis: adj_basis.and_then(|b| b.parse().ok()),
            adj_source,
            bars: self.bar_stats(symbol)?,
            last_fetch: self.last_fetch(symbol)?,
        })
    }

    /// The source and fetch time of the latest stored bar (an index seek).
    fn last_fetch(&self, symbol: &Symbol) -> Result<Option<(String, DateTime<Utc>)>> {
        let sql = if symbol.is_fx() {
            "SELECT source, fetched_at FROM fx_rates WHERE pair = ?1 ORDER BY date DESC LIMIT 1"
        } else {
            "SELECT source, fetched_at FROM daily_bars WHERE symbol = ?1 ORDER BY date DESC LIMIT 1"
        };
        Ok(self.conn.prepare_cached(sql)?.query_row([symbol.to_string()], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
    }

    /// Records a security's first trading date, learnt from a provider.
    pub fn set_listed_on(&mut self, symbol: &Symbol, listed_on: NaiveDate) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE securities SET listed_on = ?2 WHERE symbol = ?1", params![symbol.to_string(), listed_on])?;
            Ok(())
        })
    }

    /// Whether any price of any tracked security is stored (a fresh database has none).
    pub fn has_prices(&self) -> Result<bool> {
        Ok(self.conn.query_row("SELECT EXISTS (SELECT 1 FROM daily_bars) OR EXISTS (SELECT 1 FROM fx_rates)", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::parse_report;

    fn store_with_seed() -> Store {
        let mut store = Store::open_in_memory().unwrap();
        let report =
            parse_report(std::path::Path::new("seed.toml"), include_str!("../../data/reports/zheshang-2023-02-14-chatgpt.toml")).unwrap();
        store.load_report(&report, Utc::now()).unwrap();
        store
    }

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 2, day).unwrap()
    }

    fn bar(day: u32, close: f64) -> Bar {
        Bar { date: d(day), open: Some(close), high: Some(close), low: Some(close), close, volume: Some(1.0), adj_close: close * 2.0 }
    }

    #[test]
    fn upsert_counts_added_and_replaced_and_as_of_seeks_back() {
        let mut store = store_with_seed();
        let symbol = Symbol::parse("600941.SH").unwrap();
        let stats = store
            .upsert_bars(&SeriesWrite::new(&symbol, &[bar(13, 10.0), bar(14, 11.0)], "tencent", AdjBasis::Hfq, d(20), Utc::now()))
            .unwrap();
        assert_eq!(stats, WriteStats { added: 2, replaced: 0 });
        let stats = store
            .upsert_bars(&SeriesWrite::new(&symbol, &[bar(14, 12.0), bar(17, 13.0)], "tencent", AdjBasis::Hfq, d(20), Utc::now()))
            .unwrap();
        assert_eq!(stats, WriteStats { added: 1, replaced: 1 });
        // The 15th and 16th have no bar: as of the 16th is the 14th, with the revised close.
        let as_of = store.bar_as_of(&symbol, d(16)).unwrap().unwrap();
        assert_eq!((as_of.date, as_of.close, as_of.adj_close), (d(14), 12.0, 24.0));
        assert_eq!(store.bar_stats(&symbol).unwrap().unwrap(), BarStats { first: d(13), last: d(17), count: 3 });
    }

    #[test]
    fn refuses_to_mix_adjusted_series_and_replace_switches_whole() {
        let mut store = store_with_seed();
        let symbol = Symbol::parse("0700.HK").unwrap();
        store.upsert_bars(&SeriesWrite::new(&symbol, &[bar(13, 300.0)], "tencent", AdjBasis::Hfq, d(20), Utc::now())).unwrap();
        let err = store
            .upsert_bars(&SeriesWrite::new(&symbol, &[bar(14, 301.0)], "yahoo", AdjBasis::YahooAdjclose, d(20), Utc::now()))
            .unwrap_err();
        assert!(err.to_string().contains("refusing to mix"), "{err}");
        assert_eq!(store.bar_stats(&symbol).unwrap().unwrap().count, 1, "a refused write leaves the series alone");
        let stats = store
            .replace_bars(&SeriesWrite::new(
                &symbol,
                &[bar(13, 299.0), bar(14, 301.0)],
                "yahoo",
                AdjBasis::YahooAdjclose,
                d(20),
                Utc::now(),
            ))
            .unwrap();
        assert_eq!(stats, WriteStats { added: 1, replaced: 1 });
        let state = store.security_state(&symbol).unwrap();
        assert_eq!((state.adj_basis, state.adj_source.as_deref()), (Some(AdjBasis::YahooAdjclose), Some("yahoo")));
    }

    #[test]
    fn invalid_series_writes_nothing() {
        let mut store = store_with_seed();
        let symbol = Symbol::parse("600941.SH").unwrap();
        let mut bad = bar(14, 11.0);
        bad.close = -1.0;
        let err =
            store.upsert_bars(&SeriesWrite::new(&symbol, &[bar(13, 10.0), bad], "csv", AdjBasis::Imported, d(20), Utc::now())).unwrap_err();
        assert!(err.to_string().contains("600941.SH") && err.to_string().contains("close is -1"), "{err}");
        assert_eq!(store.bar_stats(&symbol).unwrap(), None);
    }

    #[test]
    fn a_replacement_is_checked_like_an_upsert_before_anything_is_deleted() {
        let mut store = store_with_seed();
        let symbol = Symbol::parse("600941.SH").unwrap();
        store
            .upsert_bars(&SeriesWrite::new(&symbol, &[bar(13, 10.0), bar(14, 11.0)], "tencent", AdjBasis::Hfq, d(20), Utc::now()))
            .unwrap();
        // An invalid replacement leaves the stored series whole (its delete never runs).
        let err = store
            .replace_bars(&SeriesWrite::new(&symbol, &[bar(13, 10.0), bar(13, 10.5)], "yahoo", AdjBasis::YahooAdjclose, d(20), Utc::now()))
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidBars { .. }), "{err}");
        assert_eq!(store.bar_stats(&symbol).unwrap().unwrap(), BarStats { first: d(13), last: d(14), count: 2 });
        // Neither write reaches a security that is not tracked.
        let untracked = Symbol::parse("TSLA.US").unwrap();
        let upsert =
            store.upsert_bars(&SeriesWrite::new(&untracked, &[bar(13, 300.0)], "yahoo", AdjBasis::YahooAdjclose, d(20), Utc::now()));
        let replace =
            store.replace_bars(&SeriesWrite::new(&untracked, &[bar(13, 300.0)], "yahoo", AdjBasis::YahooAdjclose, d(20), Utc::now()));
        for result in [upsert, replace] {
            assert!(matches!(result, Err(StoreError::NotFound(ref message)) if message.contains("TSLA.US")), "{result:?}");
        }
    }

    #[test]
    fn fx_rates_round_trip_as_close_only_bars() {
        let mut store = store_with_seed();
        let pair = Symbol::parse("USDCNY.FX").unwrap();
        store
            .upsert_bars(&SeriesWrite::new(
                &pair,
                &[Bar::close_only(d(13), 6.8), Bar::close_only(d(14), 6.82)],
                "csv",
                AdjBasis::None,
                d(20),
                Utc::now(),
            ))
            .unwrap();
        let bars = store.all_bars(&pair).unwrap();
        assert_eq!(bars, vec![Bar::close_only(d(13), 6.8), Bar::close_only(d(14), 6.82)]);
    }
}

//! Read-only queries for `ratingwatch status`: how fresh each tracked security's prices are.

use super::{Result, Store};
use crate::symbol::{Market, Symbol};
use chrono::NaiveDate;

/// A tracked security and the date of its latest stored close (`None`: nothing stored).
#[derive(Clone, Debug, PartialEq)]
pub struct PriceFreshness {
    pub symbol: Symbol,
    pub name: String,
    pub market: Market,
    pub latest_close: Option<NaiveDate>,
}

impl Store {
    /// Every tracked security (report companies, benchmarks, FX pairs) with its latest
    /// stored date, ordered by symbol. Each lookup is an index seek on the primary key.
    pub fn price_freshness(&self) -> Result<Vec<PriceFreshness>> {
        let mut stmt = self.conn.prepare(
            "SELECT s.symbol, COALESCE(s.name, s.symbol),
                    CASE WHEN s.market = 'FX'
                         THEN (SELECT MAX(date) FROM fx_rates f WHERE f.pair = s.symbol)
                         ELSE (SELECT MAX(date) FROM daily_bars b WHERE b.symbol = s.symbol) END
             FROM securities s
             WHERE s.kind != 'stock' OR EXISTS (SELECT 1 FROM companies c WHERE c.symbol = s.symbol)
             ORDER BY s.symbol",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<NaiveDate>>(2)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (symbol, name, latest) = row?;
            // Symbols are stored canonical; one that no longer parses is skipped rather than fatal.
            let Ok(symbol) = Symbol::parse(&symbol) else { continue };
            out.push(PriceFreshness { market: symbol.market(), symbol, name, latest_close: latest });
        }
        Ok(out)
    }

    /// The newest `limit` distinct dates on which any benchmark index has a stored close,
    /// newest first: the trading calendar staleness is counted in.
    pub fn benchmark_dates(&self, limit: usize) -> Result<Vec<NaiveDate>> {
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT date FROM daily_bars
             WHERE symbol IN (SELECT symbol FROM securities WHERE kind = 'index')
             ORDER BY date DESC LIMIT ?1",
        )?;
        Ok(stmt.query_map([limit as i64], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::catalog::parse_report;
    use crate::prices::{AdjBasis, Bar};
    use crate::store::SeriesWrite;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 3, day).unwrap()
    }

    #[test]
    fn freshness_lists_every_tracked_security_and_benchmark_dates_come_newest_first() {
        let mut store = Store::open_in_memory().unwrap();
        let report =
            parse_report(std::path::Path::new("seed.toml"), include_str!("../../data/reports/zheshang-2023-02-14-chatgpt.toml")).unwrap();
        store.load_report(&report, Utc::now()).unwrap();
        let csi300 = Symbol::parse("000300.SH").unwrap();
        let mobile = Symbol::parse("600941.SH").unwrap();
        let usd = Symbol::parse("USDCNY.FX").unwrap();
        let bars = |days: &[u32]| days.iter().map(|&day| Bar::close_only(d(day), 4000.0)).collect::<Vec<_>>();
        store.upsert_bars(&SeriesWrite::new(&csi300, &bars(&[1, 2, 3, 6]), "csv", AdjBasis::None, d(31), Utc::now())).unwrap();
        store.upsert_bars(&SeriesWrite::new(&mobile, &bars(&[1, 2]), "csv", AdjBasis::Imported, d(31), Utc::now())).unwrap();
        store.upsert_bars(&SeriesWrite::new(&usd, &bars(&[3]), "csv", AdjBasis::None, d(31), Utc::now())).unwrap();

        let freshness = store.price_freshness().unwrap();
        let latest = |symbol: &Symbol| freshness.iter().find(|f| &f.symbol == symbol).unwrap().latest_close;
        assert_eq!(latest(&csi300), Some(d(6)));
        assert_eq!(latest(&mobile), Some(d(2)));
        assert_eq!(latest(&usd), Some(d(3)), "FX pairs are read from fx_rates");
        assert_eq!(latest(&Symbol::parse("MSFT.US").unwrap()), None);
        // 45 companies, the benchmark and two FX pairs.
        assert_eq!(freshness.len(), 48);

        assert_eq!(store.benchmark_dates(3).unwrap(), vec![d(6), d(3), d(2)]);
    }
}

//! The security master: instruments (listings with names and kinds) for name resolution.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, time_text};
use crate::names::{Instrument, Kind, Status};
use crate::symbol::{Market, Symbol};

/// What a write to the security master did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstrumentWrite {
    /// Symbols not stored before.
    pub added: usize,
    /// Symbols stored before whose row was rewritten.
    pub updated: usize,
    /// Symbols of the refreshed markets that the new list lacks, now marked delisted.
    pub delisted: usize,
}

fn upsert(tx: &rusqlite::Transaction<'_>, rows: &[Instrument], source: &str, now: &str) -> Result<(usize, usize)> {
    let mut exists = tx.prepare_cached("SELECT 1 FROM instruments WHERE symbol = ?1")?;
    let mut write = tx.prepare_cached(
        "INSERT INTO instruments (symbol, market, name, name_en, kind, status, source, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (symbol) DO UPDATE SET
             name = excluded.name,
             -- a list without English names keeps the one an import gave
             name_en = COALESCE(excluded.name_en, instruments.name_en),
             kind = excluded.kind, status = excluded.status,
             source = excluded.source, updated_at = excluded.updated_at",
    )?;
    let (mut added, mut updated) = (0, 0);
    for row in rows {
        if row.symbol.is_fx() {
            return Err(StoreError::Conflict(format!("{}: FX pairs are not instruments", row.symbol)));
        }
        let symbol = row.symbol.to_string();
        let known = exists.query_row([&symbol], |_| Ok(())).optional()?.is_some();
        write.execute(params![
            symbol,
            row.symbol.market().as_str(),
            row.name,
            row.name_en,
            row.kind.as_str(),
            row.status.as_str(),
            source,
            now
        ])?;
        if known { updated += 1 } else { added += 1 }
    }
    Ok((added, updated))
}

impl Store {
    /// Adds or rewrites instruments, all in one transaction (an import).
    pub fn upsert_instruments(&mut self, rows: &[Instrument], source: &str, now: DateTime<Utc>) -> Result<InstrumentWrite> {
        let now = time_text(now);
        self.write(|tx| {
            let (added, updated) = upsert(tx, rows, source, &now)?;
            Ok(InstrumentWrite { added, updated, delisted: 0 })
        })
    }

    /// Stores a provider's complete list of `kind` instruments on `markets`, in one
    /// transaction: rows are added or rewritten, and listings of those markets and that kind
    /// that came from the same `source` but are missing from `rows` are marked delisted.
    /// Rows from other sources (imports) are never touched by the delisting.
    pub fn refresh_instrument_list(
        &mut self,
        markets: &[Market],
        kind: Kind,
        rows: &[Instrument],
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<InstrumentWrite> {
        let now = time_text(now);
        self.write(|tx| {
            let (added, updated) = upsert(tx, rows, source, &now)?;
            // The symbols of the new list, to delist what it lacks (a temp table: per connection).
            tx.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS refreshed_symbols (symbol TEXT PRIMARY KEY); DELETE FROM refreshed_symbols;",
            )?;
            {
                let mut keep = tx.prepare_cached("INSERT OR IGNORE INTO refreshed_symbols (symbol) VALUES (?1)")?;
                for row in rows {
                    keep.execute([row.symbol.to_string()])?;
                }
            }
            let mut delisted = 0;
            let mut mark = tx.prepare_cached(
                "UPDATE instruments SET status = 'delisted', updated_at = ?4
                 WHERE market = ?1 AND kind = ?2 AND source = ?3 AND status != 'delisted'
                   AND symbol NOT IN (SELECT symbol FROM refreshed_symbols)",
            )?;
            for market in markets {
                delisted += mark.execute(params![market.as_str(), kind.as_str(), source, now])?;
            }
            tx.execute_batch("DELETE FROM refreshed_symbols;")?;
            Ok(InstrumentWrite { added, updated, delisted })
        })
    }

    /// The whole security master, in symbol order. A row whose symbol no longer parses is
    /// skipped (schema checks keep the other columns valid).
    pub fn instruments(&self) -> Result<Vec<Instrument>> {
        let mut stmt = self.conn.prepare("SELECT symbol, name, name_en, kind, status FROM instruments ORDER BY symbol")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (symbol, name, name_en, kind, status) = row?;
            let (Ok(symbol), Ok(kind), Ok(status)) = (Symbol::parse(&symbol), kind.parse::<Kind>(), status.parse::<Status>()) else {
                continue;
            };
            out.push(Instrument { symbol, name, name_en, kind, status });
        }
        Ok(out)
    }

    /// How many instruments are stored, per source.
    pub fn instrument_counts(&self) -> Result<Vec<(String, usize)>> {
        let mut stmt = self.conn.prepare("SELECT source, COUNT(*) FROM instruments GROUP BY source ORDER BY source")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as usize)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn stock(symbol: &str, name: &str, name_en: Option<&str>) -> Instrument {
        Instrument::stock(Symbol::parse(symbol).unwrap(), name, name_en)
    }

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 29, hour, 0, 0).unwrap()
    }

    #[test]
    fn upsert_round_trips_and_keeps_english_names_a_list_lacks() {
        let mut store = Store::open_in_memory().unwrap();
        let w = store
            .upsert_instruments(&[stock("0700.HK", "腾讯", Some("Tencent")), stock("MSFT.US", "微软", None)], "import", at(1))
            .unwrap();
        assert_eq!(w, InstrumentWrite { added: 2, updated: 0, delisted: 0 });
        let w = store.upsert_instruments(&[stock("0700.HK", "腾讯控股", None)], "eastmoney", at(2)).unwrap();
        assert_eq!(w, InstrumentWrite { added: 0, updated: 1, delisted: 0 });
        let all = store.instruments().unwrap();
        assert_eq!(all, vec![stock("0700.HK", "腾讯控股", Some("Tencent")), stock("MSFT.US", "微软", None)]);
        assert_eq!(store.instrument_counts().unwrap(), vec![("eastmoney".to_string(), 1), ("import".to_string(), 1)]);
    }

    #[test]
    fn a_refreshed_list_delists_only_its_own_missing_rows() {
        let mut store = Store::open_in_memory().unwrap();
        store.upsert_instruments(&[stock("0941.HK", "中国移动", None)], "import", at(1)).unwrap();
        let first = [stock("0700.HK", "腾讯控股", None), stock("9988.HK", "阿里巴巴-SW", None)];
        store.refresh_instrument_list(&[Market::Hk], Kind::Stock, &first, "eastmoney", at(2)).unwrap();
        // 9988.HK leaves the list; the imported 0941.HK and the US market are not touched.
        store.upsert_instruments(&[stock("MSFT.US", "微软", None)], "eastmoney", at(2)).unwrap();
        let w = store.refresh_instrument_list(&[Market::Hk], Kind::Stock, &first[..1], "eastmoney", at(3)).unwrap();
        assert_eq!(w, InstrumentWrite { added: 0, updated: 1, delisted: 1 });
        let status: Vec<(String, Status)> = store.instruments().unwrap().into_iter().map(|i| (i.symbol.to_string(), i.status)).collect();
        assert_eq!(
            status,
            [
                ("0700.HK".to_string(), Status::Listed),
                ("0941.HK".to_string(), Status::Listed),
                ("9988.HK".to_string(), Status::Delisted),
                ("MSFT.US".to_string(), Status::Listed),
            ]
        );
    }

    #[test]
    fn an_fx_pair_writes_nothing() {
        let mut store = Store::open_in_memory().unwrap();
        let rows = [stock("0700.HK", "腾讯控股", None), Instrument::stock(Symbol::parse("USDCNY.FX").unwrap(), "美元", None)];
        assert!(store.upsert_instruments(&rows, "import", at(1)).is_err());
        assert!(store.instruments().unwrap().is_empty());
    }
}

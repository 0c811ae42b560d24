//! The ratings feed's table: one row per report of Eastmoney's list, keyed by `info_code`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, Store, StoreError, time_text};
use crate::ratings::{Change, RatingRecord};
use crate::symbol::Symbol;

/// What one company's write did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RatingsWrite {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Outbox messages queued for the inserted records (`upsert_ratings_and_notify`).
    pub queued: usize,
}

/// Which ratings a listing asks for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RatingsFilter {
    pub symbol: Option<Symbol>,
    /// Matches the short or the full name.
    pub broker: Option<String>,
    /// Published on or after / on or before.
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

const COLUMNS: &str = "info_code, symbol, name, broker, broker_full, analysts, publish_date, rating, normalized, normalized_value, \
                       previous, previous_value, change, target_price, title, pdf_url";

impl Store {
    /// The latest stored publish date of a company's ratings.
    pub fn last_rating_date(&self, symbol: &Symbol) -> Result<Option<NaiveDate>> {
        Ok(self
            .conn
            .query_row("SELECT MAX(publish_date) FROM ratings WHERE symbol = ?1", params![symbol.to_string()], |r| {
                r.get::<_, Option<NaiveDate>>(0)
            })
            .optional()?
            .flatten())
    }

    /// The info codes stored for a company published from `from` to `to`.
    pub fn rating_codes_between(&self, symbol: &Symbol, from: NaiveDate, to: NaiveDate) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT info_code FROM ratings WHERE symbol = ?1 AND publish_date BETWEEN ?2 AND ?3 ORDER BY info_code")?;
        let rows = stmt.query_map(params![symbol.to_string(), from, to], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Writes one company's records in one IMMEDIATE transaction: new codes are inserted, a
    /// stored code whose fields differ is updated, an identical one is left alone.
    pub fn upsert_ratings(&mut self, records: &[RatingRecord], now: DateTime<Utc>) -> Result<RatingsWrite> {
        self.upsert_ratings_and_notify(records, now, |_| Vec::new())
    }

    /// [`Store::upsert_ratings`], and in the same transaction the outbox messages `announce`
    /// builds for each record inserted by this write (never for an updated or unchanged one),
    /// so a stored rating and its announcement land together or not at all; a dedup key
    /// already in the outbox is skipped.
    pub fn upsert_ratings_and_notify(
        &mut self,
        records: &[RatingRecord],
        now: DateTime<Utc>,
        mut announce: impl FnMut(&RatingRecord) -> Vec<super::NewOutboxMessage>,
    ) -> Result<RatingsWrite> {
        let fetched_at = time_text(now);
        self.write(|tx| {
            let mut outcome = RatingsWrite::default();
            let mut existing = tx.prepare_cached(&format!("SELECT {COLUMNS} FROM ratings WHERE info_code = ?1"))?;
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO ratings (info_code, symbol, name, broker, broker_full, analysts, publish_date, rating, normalized, \
                 normalized_value, previous, previous_value, change, target_price, title, pdf_url, fetched_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            )?;
            for record in records {
                let stored = existing.query_row(params![record.info_code], read_record).optional()?;
                match stored {
                    Some(Ok(stored)) if &stored == record => {
                        outcome.unchanged += 1;
                        continue;
                    }
                    Some(_) => outcome.updated += 1,
                    None => {
                        outcome.inserted += 1;
                        let messages = announce(record);
                        if !messages.is_empty() {
                            outcome.queued += super::outbox::enqueue_in(tx, &messages, now)?;
                        }
                    }
                }
                let change: &'static str = record.change.into();
                insert.execute(params![
                    record.info_code,
                    record.symbol.to_string(),
                    record.name,
                    record.broker,
                    record.broker_full,
                    record.analysts,
                    record.date,
                    record.rating,
                    record.normalized,
                    record.normalized_value,
                    record.previous,
                    record.previous_value,
                    change,
                    record.target_price,
                    record.title,
                    record.pdf_url,
                    fetched_at,
                ])?;
            }
            Ok(outcome)
        })
    }

    /// Stored ratings matching `filter`, oldest first (by publish date, then info code).
    pub fn ratings(&self, filter: &RatingsFilter) -> Result<Vec<RatingRecord>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM ratings
             WHERE (?1 IS NULL OR symbol = ?1) AND (?2 IS NULL OR broker = ?2 OR broker_full = ?2)
               AND (?3 IS NULL OR publish_date >= ?3) AND (?4 IS NULL OR publish_date <= ?4)
             ORDER BY publish_date, info_code"
        ))?;
        let rows =
            stmt.query_map(params![filter.symbol.as_ref().map(Symbol::to_string), filter.broker, filter.since, filter.until], read_record)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row?.map_err(StoreError::Conflict)?);
        }
        Ok(out)
    }

    /// How many ratings are stored per company.
    pub fn rating_counts(&self) -> Result<HashMap<String, u64>> {
        let mut stmt = self.conn.prepare_cached("SELECT symbol, COUNT(*) FROM ratings GROUP BY symbol")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// A row as a record; a stored value that no longer parses is named, not skipped.
fn read_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<std::result::Result<RatingRecord, String>> {
    let info_code: String = r.get(0)?;
    let symbol: String = r.get(1)?;
    let change: String = r.get(12)?;
    let symbol = match Symbol::parse(&symbol) {
        Ok(symbol) => symbol,
        Err(error) => return Ok(Err(format!("rating {info_code}: stored symbol: {error}"))),
    };
    let Ok(change) = change.parse::<Change>() else {
        return Ok(Err(format!("rating {info_code}: stored change `{change}` is unknown")));
    };
    Ok(Ok(RatingRecord {
        info_code,
        symbol,
        name: r.get(2)?,
        broker: r.get(3)?,
        broker_full: r.get(4)?,
        analysts: r.get(5)?,
        date: r.get(6)?,
        rating: r.get(7)?,
        normalized: r.get(8)?,
        normalized_value: r.get(9)?,
        previous: r.get(10)?,
        previous_value: r.get(11)?,
        change,
        target_price: r.get(13)?,
        title: r.get(14)?,
        pdf_url: r.get(15)?,
    }))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn record(code: &str, day: u32, rating: &str) -> RatingRecord {
        RatingRecord {
            info_code: code.to_string(),
            symbol: Symbol::parse("600519.SH").unwrap(),
            name: "贵州茅台".into(),
            broker: "国泰君安".into(),
            broker_full: "国泰君安证券股份有限公司".into(),
            analysts: "张三,李四".into(),
            date: NaiveDate::from_ymd_opt(2023, 3, day).unwrap(),
            rating: rating.into(),
            normalized: Some("买入".into()),
            normalized_value: Some(3),
            previous: None,
            previous_value: None,
            change: Change::FirstCoverage,
            target_price: None,
            title: "t".into(),
            pdf_url: crate::ratings::pdf_url(code),
        }
    }

    #[test]
    fn a_resync_updates_and_never_duplicates() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc.with_ymd_and_hms(2023, 6, 1, 0, 0, 0).unwrap();
        let first = [record("AP1", 1, "增持"), record("AP2", 2, "增持")];
        assert_eq!(store.upsert_ratings(&first, now).unwrap(), RatingsWrite { inserted: 2, ..Default::default() });
        // The same records again: nothing written; one changed word: one update.
        assert_eq!(store.upsert_ratings(&first, now).unwrap(), RatingsWrite { unchanged: 2, ..Default::default() });
        let again = [record("AP1", 1, "增持"), record("AP2", 2, "谨慎增持")];
        assert_eq!(store.upsert_ratings(&again, now).unwrap(), RatingsWrite { updated: 1, unchanged: 1, ..Default::default() });
        let stored = store.ratings(&RatingsFilter::default()).unwrap();
        assert_eq!(stored, again.to_vec());
        let moutai = Symbol::parse("600519.SH").unwrap();
        assert_eq!(store.last_rating_date(&moutai).unwrap(), NaiveDate::from_ymd_opt(2023, 3, 2));
        let (from, to) = (NaiveDate::from_ymd_opt(2023, 3, 2).unwrap(), NaiveDate::from_ymd_opt(2023, 3, 9).unwrap());
        assert_eq!(store.rating_codes_between(&moutai, from, to).unwrap(), ["AP2"]);
        let by_full_name = RatingsFilter { broker: Some("国泰君安证券股份有限公司".into()), ..Default::default() };
        assert_eq!(store.ratings(&by_full_name).unwrap().len(), 2);
    }

    #[test]
    fn only_an_inserted_rating_is_announced_and_in_its_own_transaction() {
        let mut store = Store::open_in_memory().unwrap();
        let now = Utc.with_ymd_and_hms(2023, 6, 1, 0, 0, 0).unwrap();
        let message = |record: &RatingRecord| {
            vec![super::super::NewOutboxMessage {
                dedup_key: format!("broker_rating:{}:hook", record.info_code),
                channel: "hook".into(),
                event: "broker_rating".into(),
                report_id: None,
                title: record.info_code.clone(),
                payload: "{}".into(),
            }]
        };
        let mut asked = Vec::new();
        let first = [record("AP1", 1, "增持")];
        let write = store
            .upsert_ratings_and_notify(&first, now, |r| {
                asked.push(r.info_code.clone());
                message(r)
            })
            .unwrap();
        assert_eq!(write, RatingsWrite { inserted: 1, queued: 1, ..Default::default() });
        // AP1 again (unchanged), AP1 with a new word (updated) and AP2 (inserted): only AP2 is asked.
        store
            .upsert_ratings_and_notify(&first, now, |r| {
                asked.push(r.info_code.clone());
                message(r)
            })
            .unwrap();
        let again = [record("AP1", 1, "谨慎增持"), record("AP2", 2, "增持")];
        let write = store
            .upsert_ratings_and_notify(&again, now, |r| {
                asked.push(r.info_code.clone());
                message(r)
            })
            .unwrap();
        assert_eq!(write, RatingsWrite { inserted: 1, updated: 1, queued: 1, ..Default::default() });
        assert_eq!(asked, ["AP1", "AP2"]);
        let keys: Vec<String> = store.outbox_messages(None, 10).unwrap().into_iter().map(|row| row.dedup_key).collect();
        assert_eq!(keys, ["broker_rating:AP2:hook", "broker_rating:AP1:hook"], "newest first");
    }
}

//! The ratings sync (`ratingwatch ratings sync`): for every Shanghai/Shenzhen company on any
//! loaded report's watchlist, Eastmoney's report list since the last stored publish date
//! minus `[ratings] overlap_days` (first run: `ratings.history_start`, else
//! `sync.history_start`, else one year before the earliest report date), then one IMMEDIATE
//! transaction per company.
//!
//! Invariants: Hong Kong and US companies (and indices) are counted as skipped, never asked
//! for; an answer that lacks a report already stored for its window is that company's failure
//! (named, nothing deleted, nothing written); a failed company never stops the others. The
//! store is read and written between requests on the caller's task (the CLI drives this with
//! `block_on`), never from another thread.

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::plan::default_history_start;
use crate::config::Config;
use crate::providers::ratings::RatingsSource;
use crate::ratings::RatingRecord;
use crate::store::{NewOutboxMessage, Store, StoreError};
use crate::symbol::{Market, Symbol};

/// What one ratings sync did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RatingsSyncReport {
    /// Companies asked for.
    pub companies: usize,
    /// Watchlist companies outside Shanghai and Shenzhen, not asked for.
    pub skipped: Vec<Symbol>,
    pub requests: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Outbox messages queued for inserted ratings (the `broker_rating` event).
    pub queued: usize,
    /// Each failed company and why.
    pub failures: Vec<(Symbol, String)>,
}

/// The companies a ratings sync asks for, and those it skips (not Shanghai/Shenzhen shares).
pub fn companies(store: &Store, only: Option<&Symbol>) -> Result<(Vec<Symbol>, Vec<Symbol>), StoreError> {
    let symbols: Vec<Symbol> = match only {
        Some(symbol) => vec![symbol.clone()],
        None => store.watchlist(None)?.into_iter().map(|entry| entry.symbol).collect(),
    };
    Ok(symbols.into_iter().partition(|s| matches!(s.market(), Market::Sh | Market::Sz) && !s.is_index()))
}

/// The first publish date asked for: the last stored one minus the overlap, else the
/// configured history start.
pub fn since(config: &Config, last_stored: Option<NaiveDate>, earliest_report: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
    match last_stored {
        Some(last) => last.checked_sub_days(Days::new(config.ratings.overlap_days.into())).unwrap_or(last),
        None => config.ratings.history_start.or(config.sync.history_start).unwrap_or_else(|| default_history_start(earliest_report, today)),
    }
}

/// What to queue for a rating newly inserted by this sync (the service's `broker_rating`
/// messages); written in the company's transaction. [`no_announcements`] queues nothing.
pub type Announce<'a> = &'a (dyn Fn(&RatingRecord) -> Vec<NewOutboxMessage> + Send + Sync);

/// Queues nothing (`ratings sync` on the command line).
pub fn no_announcements(_: &RatingRecord) -> Vec<NewOutboxMessage> {
    Vec::new()
}

/// Syncs the ratings of `only` (or every watchlist company). `progress(done, total, symbol)`
/// is called after each company; `announce` is asked for the messages of each inserted rating.
pub async fn sync_ratings(
    store: &mut Store,
    config: &Config,
    only: Option<&Symbol>,
    (today, now): (NaiveDate, DateTime<Utc>),
    announce: Announce<'_>,
    progress: &mut (dyn FnMut(usize, usize, &Symbol) + Send),
) -> Result<RatingsSyncReport, RatingsSyncError> {
    let source = RatingsSource::from_config(&config.ratings)?;
    let (wanted, skipped) = companies(store, only)?;
    let earliest = store.earliest_report_date()?;
    let mut report = RatingsSyncReport { companies: wanted.len(), skipped, ..Default::default() };
    for (index, symbol) in wanted.iter().enumerate() {
        let from = since(config, store.last_rating_date(symbol)?, earliest, today);
        let result = source.fetch(symbol, from, today).await;
        report.requests += match &result {
            Ok(fetch) => fetch.requests,
            Err(_) => 1,
        };
        match result {
            Err(error) => report.failures.push((symbol.clone(), error.message)),
            Ok(fetch) => {
                let stored = store.rating_codes_between(symbol, from, today)?;
                let missing: Vec<&String> = stored.iter().filter(|code| !fetch.records.iter().any(|r| &r.info_code == *code)).collect();
                if let Some(first) = missing.first() {
                    report.failures.push((
                        symbol.clone(),
                        format!(
                            "the answer for {from} to {today} lacks {} stored report(s) (e.g. {first}); nothing is deleted or written",
                            missing.len()
                        ),
                    ));
                } else {
                    let write = store.upsert_ratings_and_notify(&fetch.records, now, announce)?;
                    report.inserted += write.inserted;
                    report.updated += write.updated;
                    report.unchanged += write.unchanged;
                    report.queued += write.queued;
                }
            }
        }
        progress(index + 1, wanted.len(), symbol);
    }
    Ok(report)
}

/// Why a ratings sync could not run at all (a company's failure is in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum RatingsSyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Client(#[from] crate::providers::ProvidersConfigError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_starts_at_the_last_stored_date_minus_the_overlap() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let mut config = Config::default();
        // 2023-03-31 − 30 days = 2023-03-01.
        assert_eq!(since(&config, Some(date(2023, 3, 31)), None, date(2023, 6, 1)), date(2023, 3, 1));
        // First run: no history start configured → a year before the earliest report.
        assert_eq!(since(&config, None, Some(date(2023, 2, 14)), date(2023, 6, 1)), date(2022, 2, 14));
        config.sync.history_start = Some(date(2022, 6, 1));
        assert_eq!(since(&config, None, Some(date(2023, 2, 14)), date(2023, 6, 1)), date(2022, 6, 1));
        config.ratings.history_start = Some(date(2023, 1, 1));
        assert_eq!(since(&config, None, Some(date(2023, 2, 14)), date(2023, 6, 1)), date(2023, 1, 1));
    }
}

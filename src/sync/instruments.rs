//! Refreshing the security master from Eastmoney's lists: what `ratingwatch instruments sync`
//! and the service's weekly `sync_instruments` job run.
//!
//! Each segment (A-shares, HK, US) is fetched whole, page by page through the rate-limited
//! client, then stored in one transaction per segment and kind (stocks, then ETFs, so a stock refresh never
//! delists an ETF); a segment whose fetch fails writes nothing and the others go on. Listings a complete list no longer holds are marked delisted.

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::names::Kind;
use crate::providers::instruments::{InstrumentSources, ListSegment};
use crate::store::{InstrumentWrite, Store, StoreError};

/// What happened to one segment.
#[derive(Clone, Debug, PartialEq)]
pub enum SegmentOutcome {
    Stored { pages: usize, total: usize, write: InstrumentWrite, skipped: usize },
    Failed { error: String },
    Cancelled,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InstrumentSyncSummary {
    pub segments: Vec<(ListSegment, SegmentOutcome)>,
}

impl InstrumentSyncSummary {
    pub fn failures(&self) -> Vec<String> {
        self.segments
            .iter()
            .filter_map(|(segment, outcome)| match outcome {
                SegmentOutcome::Failed { error } => Some(format!("{}: {error}", segment.as_str())),
                _ => None,
            })
            .collect()
    }

    pub fn cancelled(&self) -> bool {
        self.segments.iter().any(|(_, o)| *o == SegmentOutcome::Cancelled)
    }

    /// Instruments added, updated and delisted over all segments.
    pub fn totals(&self) -> InstrumentWrite {
        let mut sum = InstrumentWrite::default();
        for (_, outcome) in &self.segments {
            if let SegmentOutcome::Stored { write, .. } = outcome {
                sum.added += write.added;
                sum.updated += write.updated;
                sum.delisted += write.delisted;
            }
        }
        sum
    }

    /// One line per segment, for people.
    pub fn lines(&self) -> Vec<String> {
        self.segments
            .iter()
            .map(|(segment, outcome)| match outcome {
                SegmentOutcome::Stored { pages, total, write, skipped } => format!(
                    "{}: {total} listings in {pages} pages: {} added, {} updated, {} delisted{}",
                    segment.as_str(),
                    write.added,
                    write.updated,
                    write.delisted,
                    if *skipped > 0 { format!(", {skipped} rows without a usable symbol skipped") } else { String::new() }
                ),
                SegmentOutcome::Failed { error } => format!("{}: failed, nothing stored: {error}", segment.as_str()),
                SegmentOutcome::Cancelled => format!("{}: cancelled, nothing stored", segment.as_str()),
            })
            .collect()
    }
}

/// Fetches and stores each segment in turn. `on_page(segment, page, pages)` reports progress.
/// Only a database error is an `Err`; provider failures are recorded per segment.
pub async fn sync_instruments(
    sources: &InstrumentSources,
    store: &mut Store,
    segments: &[ListSegment],
    now: DateTime<Utc>,
    cancel: &CancellationToken,
    on_page: &mut (dyn FnMut(ListSegment, usize, usize) + Send),
) -> Result<InstrumentSyncSummary, StoreError> {
    let mut summary = InstrumentSyncSummary { segments: Vec::new() };
    for &segment in segments {
        if cancel.is_cancelled() {
            summary.segments.push((segment, SegmentOutcome::Cancelled));
            continue;
        }
        let mut report = |page, pages| on_page(segment, page, pages);
        let fetched = tokio::select! {
            fetched = sources.fetch_list(segment, &mut report) => fetched,
            _ = cancel.cancelled() => {
                summary.segments.push((segment, SegmentOutcome::Cancelled));
                continue;
            }
        };
        let outcome = match fetched {
            Ok(list) => {
                for skipped in list.skipped.iter().take(20) {
                    tracing::debug!(segment = segment.as_str(), "list row skipped: {skipped}");
                }
                // US lists hold ETFs too; the stock refresh must not delist them, so each kind
                // is refreshed on its own.
                let mut write = InstrumentWrite::default();
                for kind in [Kind::Stock, Kind::Etf] {
                    let rows: Vec<_> = list.instruments.iter().filter(|i| i.kind == kind).cloned().collect();
                    let w = store.refresh_instrument_list(segment.markets(), kind, &rows, "eastmoney", now)?;
                    write.added += w.added;
                    write.updated += w.updated;
                    write.delisted += w.delisted;
                }
                tracing::info!(
                    segment = segment.as_str(),
                    pages = list.pages,
                    total = list.total,
                    added = write.added,
                    "instrument list stored"
                );
                SegmentOutcome::Stored { pages: list.pages, total: list.total, write, skipped: list.skipped.len() }
            }
            Err(error) => {
                tracing::warn!(segment = segment.as_str(), "instrument list failed: {error}");
                SegmentOutcome::Failed { error: error.to_string() }
            }
        };
        summary.segments.push((segment, outcome));
    }
    Ok(summary)
}

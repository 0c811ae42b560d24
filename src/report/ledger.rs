//! The ledger (`verdict --all`): every report's verdict in one table and the share of ratings
//! that held. Pending reports are counted apart: a rating has held or not only once its
//! horizon has ended.

use chrono::NaiveDate;
use serde::Serialize;

use super::doc::{Document, Grid};
use super::numbers::{csv_fraction, percent, points, share};
use super::verdict::{currency_text, finish, status_text, status_word, write_records};
use crate::analysis::model::{Status, Verdict};

/// How many reports' ratings held, did not, and are still pending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LedgerCounts {
    pub held: usize,
    pub not_held: usize,
    pub pending: usize,
}

impl LedgerCounts {
    /// Reports whose horizon has ended.
    pub fn decided(&self) -> usize {
        self.held + self.not_held
    }

    /// Held as a fraction of decided reports; `None` before any horizon has ended.
    pub fn held_share(&self) -> Option<f64> {
        (self.decided() > 0).then(|| self.held as f64 / self.decided() as f64)
    }

    /// `1 of 2 ratings held (50 %); 1 pending`.
    pub fn sentence(&self) -> String {
        let mut text = if self.decided() == 0 {
            "No rating has reached its horizon end yet".to_string()
        } else {
            format!(
                "{} of {} {} held ({})",
                self.held,
                self.decided(),
                if self.decided() == 1 { "rating" } else { "ratings" },
                share(self.held, self.decided())
            )
        };
        if self.pending > 0 {
            text.push_str(&format!("; {} pending", self.pending));
        }
        text.push('.');
        text
    }
}

pub fn ledger_counts(verdicts: &[Verdict]) -> LedgerCounts {
    let mut counts = LedgerCounts::default();
    for verdict in verdicts {
        match verdict.status {
            Status::Held => counts.held += 1,
            Status::NotHeld => counts.not_held += 1,
            Status::Pending => counts.pending += 1,
        }
    }
    counts
}

/// The ledger in JSON: the counts, the share, and every verdict in full.
#[derive(Serialize)]
pub struct LedgerJson<'a> {
    pub as_of: Option<NaiveDate>,
    pub held: usize,
    pub not_held: usize,
    pub pending: usize,
    /// Held over held + not held, a fraction; `null` before any horizon has ended.
    pub held_share: Option<f64>,
    pub reports: &'a [Verdict],
}

impl<'a> LedgerJson<'a> {
    pub fn new(verdicts: &'a [Verdict]) -> LedgerJson<'a> {
        let counts = ledger_counts(verdicts);
        LedgerJson {
            as_of: verdicts.iter().map(|verdict| verdict.as_of).max(),
            held: counts.held,
            not_held: counts.not_held,
            pending: counts.pending,
            held_share: counts.held_share(),
            reports: verdicts,
        }
    }
}

/// The ledger as a document; with `report_links` (the dashboard's query, `?as_of=…` or ""),
/// each row's report id links to `/reports/<id>` with it (a file or terminal gets no link).
pub fn document(verdicts: &[Verdict], report_links: Option<&str>) -> Document {
    let as_of = verdicts.iter().map(|verdict| verdict.as_of).max();
    let mut doc = Document::new(match as_of {
        Some(as_of) => format!("Ledger: {} {} as of {as_of}", verdicts.len(), if verdicts.len() == 1 { "report" } else { "reports" }),
        None => "Ledger: no report".to_string(),
    });
    let mut grid = Grid::new(&[
        ("report", false),
        ("broker", false),
        ("date", false),
        ("rating", false),
        ("horizon end", false),
        ("prices to", false),
        ("basket", true),
        ("benchmark", true),
        ("excess", true),
        ("implied", false),
        ("verdict", false),
        ("sectors held", true),
    ])
    .into_cards();
    for verdict in verdicts {
        let sectors_held = verdict.sectors.iter().filter(|sector| sector.held).count();
        let link = report_links.map(|query| format!("/reports/{}{query}", verdict.report_id));
        grid.row_linked(
            vec![
                verdict.report_id.clone(),
                verdict.broker.clone(),
                verdict.report_date.to_string(),
                verdict.rating.clone(),
                verdict.horizon_end.to_string(),
                verdict.end_date.to_string(),
                percent(verdict.basket.total_return),
                format!("{} {}", verdict.benchmark.name, percent(verdict.benchmark.total_return)),
                points(verdict.basket.excess),
                verdict.basket.implied_rating.clone(),
                status_text(verdict.status, verdict.basket.held, verdict.days_left),
                format!("{sectors_held} of {}", verdict.sectors.len()),
            ],
            link,
        );
    }
    doc.table(grid);
    doc.text(ledger_counts(verdicts).sentence());
    let currencies: Vec<&str> = verdicts.iter().map(|verdict| currency_text(verdict.currency)).collect();
    let currency = if currencies.windows(2).all(|pair| pair[0] == pair[1]) {
        currencies.first().copied().unwrap_or("CNY")
    } else {
        "mixed currencies"
    };
    doc.method(&format!(
        "each report's whole basket (all its companies, equal weight, buy and hold from the base close, adjusted prices, {currency}) \
         against its benchmark from the report date to its horizon end, or to the latest close while pending; a rating held when the \
         basket's implied rating at the horizon end equals the report's. The verdict command with a report id shows one report in full."
    ));
    doc
}

/// One row per report, fractions as in JSON.
pub fn csv(verdicts: &[Verdict]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "report_id",
        "broker",
        "report_date",
        "rating",
        "horizon_end",
        "as_of",
        "end_date",
        "status",
        "basket_return",
        "benchmark_return",
        "excess",
        "implied_rating",
        "days_left",
    ];
    let mut records = vec![header.iter().map(|name| name.to_string()).collect::<Vec<_>>()];
    for verdict in verdicts {
        records.push(vec![
            verdict.report_id.clone(),
            verdict.broker.clone(),
            verdict.report_date.to_string(),
            verdict.rating.clone(),
            verdict.horizon_end.to_string(),
            verdict.as_of.to_string(),
            verdict.end_date.to_string(),
            status_word(verdict.status).to_string(),
            csv_fraction(verdict.basket.total_return),
            csv_fraction(verdict.benchmark.total_return),
            csv_fraction(verdict.basket.excess),
            verdict.basket.implied_rating.clone(),
            verdict.days_left.to_string(),
        ]);
    }
    write_records(&mut writer, &records);
    finish(writer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_count_pending_apart() {
        let counts = LedgerCounts { held: 1, not_held: 1, pending: 1 };
        assert_eq!(counts.sentence(), "1 of 2 ratings held (50 %); 1 pending.");
        assert_eq!(counts.held_share(), Some(0.5));
        let only_pending = LedgerCounts { held: 0, not_held: 0, pending: 2 };
        assert_eq!(only_pending.sentence(), "No rating has reached its horizon end yet; 2 pending.");
        assert_eq!(only_pending.held_share(), None);
        let one = LedgerCounts { held: 1, not_held: 0, pending: 0 };
        assert_eq!(one.sentence(), "1 of 1 rating held (100 %).");
    }
}

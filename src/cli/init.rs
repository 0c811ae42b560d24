//! `ratingwatch init`: create/migrate the database and load every report definition.

use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::{Context, exit, outln};
use crate::catalog;
use crate::store::{LoadOutcome, Store};

#[derive(clap::Args, Debug)]
pub struct InitArgs {}

/// Validates every report file first, then loads them; an invalid file writes nothing.
/// A missing folder falls back to the seed report compiled into the binary.
pub fn load_reports(store: &mut Store, dir: &Path, now: DateTime<Utc>) -> anyhow::Result<Vec<(String, LoadOutcome)>> {
    let reports = read_reports(dir)?;
    store_reports(store, &reports, now)
}

/// Every report definition under `dir`, validated; the embedded seed when `dir` is missing.
fn read_reports(dir: &Path) -> anyhow::Result<Vec<catalog::ReportDef>> {
    Ok(if dir.exists() {
        catalog::load_dir(dir)?
    } else {
        tracing::info!("reports folder {} does not exist; loading the embedded seed report", dir.display());
        catalog::embedded_reports()?
    })
}

fn store_reports(store: &mut Store, reports: &[catalog::ReportDef], now: DateTime<Utc>) -> anyhow::Result<Vec<(String, LoadOutcome)>> {
    let mut outcomes = Vec::with_capacity(reports.len());
    for report in reports {
        let outcome = store.load_report(report, now).with_context(|| format!("loading report `{}`", report.id))?;
        outcomes.push((report.id.clone(), outcome));
    }
    Ok(outcomes)
}

pub fn run(context: &Context, _args: &InitArgs) -> anyhow::Result<u8> {
    let path = &context.config.database.path;
    // The reports are validated before the database is created: a bad folder leaves no
    // empty database behind.
    let reports = read_reports(&context.config.reports.dir)?;
    let mut store = Store::open(path)?;
    let outcomes = store_reports(&mut store, &reports, context.now)?;
    outln(&format!("database {} is ready", path.display()))?;
    if outcomes.is_empty() {
        outln(&format!("no report files in {}", context.config.reports.dir.display()))?;
    }
    for (id, outcome) in outcomes {
        let word = match outcome {
            LoadOutcome::Added => "added",
            LoadOutcome::Updated => "updated",
            LoadOutcome::Unchanged => "unchanged",
        };
        outln(&format!("report {id}: {word}"))?;
    }
    Ok(exit::OK)
}

//! `ratingwatch init`: create/migrate the database and load every report definition.

use std::path::Path;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::{Context, exit};
use crate::catalog;
use crate::store::{LoadOutcome, Store};

#[derive(clap::Args, Debug)]
pub struct InitArgs {}

/// Validates every report file first, then loads them; an invalid file writes nothing.
/// A missing folder falls back to the seed report compiled into the binary.
pub fn load_reports(store: &mut Store, dir: &Path, now: DateTime<Utc>) -> anyhow::Result<Vec<(String, LoadOutcome)>> {
    let reports = if dir.exists() {
        catalog::load_dir(dir)?
    } else {
        tracing::info!("reports folder {} does not exist; loading the embedded seed report", dir.display());
        catalog::embedded_reports()?
    };
    let mut outcomes = Vec::with_capacity(reports.len());
    for report in &reports {
        let outcome = store.load_report(report, now).with_context(|| format!("loading report `{}`", report.id))?;
        outcomes.push((report.id.clone(), outcome));
    }
    Ok(outcomes)
}

pub fn run(context: &Context, _args: &InitArgs) -> anyhow::Result<u8> {
    let path = &context.config.database.path;
    let mut store = Store::open(path)?;
    let outcomes = load_reports(&mut store, &context.config.reports.dir, context.now)?;
    println!("database {} is ready", path.display());
    if outcomes.is_empty() {
        println!("no report files in {}", context.config.reports.dir.display());
    }
    for (id, outcome) in outcomes {
        let word = match outcome {
            LoadOutcome::Added => "added",
            LoadOutcome::Updated => "updated",
            LoadOutcome::Unchanged => "unchanged",
        };
        println!("report {id}: {word}");
    }
    Ok(exit::OK)
}

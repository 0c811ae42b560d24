//! Rendering: verdicts and weekly summaries to table, markdown, JSON, CSV, HTML and SVG.
//! Pure: model values in, `String`s out; the caller chooses stdout or a file.
//! (Placeholder bodies: the report work replaces them; the signatures are the contract.)

use std::path::{Path, PathBuf};

use crate::analysis::model::{Verdict, WeeklySummary};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Json,
    Csv,
    Html,
}

pub fn render_verdict(verdict: &Verdict, format: Format) -> String {
    let _ = (verdict, format);
    String::new()
}

pub fn render_weekly(summary: &WeeklySummary, format: Format) -> String {
    let _ = (summary, format);
    String::new()
}

/// Writes `<dir>/<report-id>/<YYYY>-W<ww>.{md,json,html}` and returns the paths written.
pub fn write_weekly_files(dir: &Path, summary: &WeeklySummary) -> std::io::Result<Vec<PathBuf>> {
    let _ = (dir, summary);
    Ok(Vec::new())
}

//! Writing a weekly summary's files: `<dir>/<report-id>/<YYYY>-W<ww>.{md,json,html}`.
//!
//! File names come only from the report id, checked again here against the catalog's rule
//! (lowercase letters, digits, `-`, `_`), and from the ISO week of the summary's own dates, never
//! from free text; a name that could leave `dir` is refused. Each file is written to a temporary
//! name in the same directory and renamed into place, so a reader never sees half a file.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::Datelike;

use super::{Format, RenderOptions, render_weekly_with};
use crate::analysis::model::WeeklySummary;
use crate::ids::ReportId;

/// The formats written for each week, in order.
const WEEKLY_FORMATS: [Format; 3] = [Format::Markdown, Format::Json, Format::Html];

/// `2023-W20`, from the ISO week of the summary's Monday.
pub fn weekly_file_stem(summary: &WeeklySummary) -> String {
    let week = summary.week_start.iso_week();
    format!("{:04}-W{:02}", week.year(), week.week())
}

/// Writes the week's markdown, JSON and HTML files and returns their paths.
pub fn write_weekly_files_with(dir: &Path, summary: &WeeklySummary, options: &RenderOptions) -> io::Result<Vec<PathBuf>> {
    check_report_id(&summary.report_id)?;
    let stem = weekly_file_stem(summary);
    if summary.week != stem {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "weekly summary labelled {} starts on {}, which is in {stem}; not writing files under a mismatched name",
                summary.week, summary.week_start
            ),
        ));
    }
    let folder = dir.join(&summary.report_id);
    std::fs::create_dir_all(&folder).map_err(|error| with_path(error, &folder, "cannot create the output folder"))?;
    let mut written = Vec::new();
    for format in WEEKLY_FORMATS {
        let path = folder.join(format!("{stem}.{}", format.extension()));
        write_atomically(&path, render_weekly_with(summary, format, options).as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// Report ids become folder names: the summary's id must be a valid [`ReportId`] (no
/// separator, no `..`), the catalog's rule.
fn check_report_id(id: &str) -> io::Result<()> {
    ReportId::parse(id)
        .map(drop)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, format!("cannot name an output folder: {error}")))
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk, then renames it over
/// `path` (atomic on one file system).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(error) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(with_path(error, path, "cannot write"));
    }
    Ok(())
}

fn with_path(error: io::Error, path: &Path, what: &str) -> io::Error {
    io::Error::new(error.kind(), format!("{what} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_ids_that_could_leave_the_folder_are_refused() {
        for bad in ["", "../etc", "a/b", "a\\b", "..", ".hidden", "-flag", "UPPER", "a b", "报告"] {
            let error = check_report_id(bad).expect_err(bad);
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
        check_report_id("zheshang-2023-02-14-chatgpt").unwrap();
    }
}

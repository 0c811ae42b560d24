//! Writing a weekly summary's files: `<dir>/<report-id>/<YYYY>-W<ww>.{md,json,html}`.
//!
//! File names come only from the report id, checked again here against the catalog's rule
//! (lowercase letters, digits, `-`, `_`), and from the ISO week of the summary's own dates, never
//! from free text; a name that could leave `dir` is refused. Each file is written to a temporary
//! name in the same directory and renamed into place, so a reader never sees half a file.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{Format, RenderOptions, render_weekly_with};
use crate::analysis::model::WeeklySummary;
use crate::ids::{ReportId, Week};

/// The formats written for each week, in order.
const WEEKLY_FORMATS: [Format; 3] = [Format::Markdown, Format::Json, Format::Html];

/// `2023-W20`, from the ISO week of the summary's Monday.
pub fn weekly_file_stem(summary: &WeeklySummary) -> String {
    Week::containing(summary.week_start).to_string()
}

/// Writes the week's markdown, JSON and HTML files and returns their paths.
pub fn write_weekly_files_with(dir: &Path, summary: &WeeklySummary, options: &RenderOptions) -> io::Result<Vec<PathBuf>> {
    check_report_id(&summary.report_id)?;
    let stem = weekly_file_stem(summary);
    if summary.week.to_string() != stem {
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

/// Writes `bytes` to a new temporary file beside `path` (a random name, created exclusively,
/// so nothing planted there in advance is written through; mode `0666` less the umask),
/// flushes it to disk, then renames
/// it over `path` (atomic on one file system). A symlink at `path` is replaced by the file,
/// never followed: the link's target is left untouched.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    stage(path, bytes)?.commit()
}

/// Like [`write_atomically`], but only where nothing exists: when anything is at `path` (a
/// file, a folder, a symlink, dangling or not), even one created a moment ago by another
/// process, the write fails with [`io::ErrorKind::AlreadyExists`] and `path` is untouched.
/// There is no gap between a check and the write: the rename itself refuses to replace.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    stage(path, bytes)?.commit_new()
}

/// A file written and flushed beside its target but not yet in place: [`StagedFile::commit`]
/// renames it over the target, [`StagedFile::commit_new`] only where nothing exists; dropped
/// uncommitted, it is removed. Stage before a step that may fail (a database load), commit
/// after it, and a failure leaves no file behind.
pub struct StagedFile {
    file: tempfile::NamedTempFile,
    path: PathBuf,
}

/// Writes `bytes` to a new temporary file in `path`'s folder and flushes it to disk.
pub fn stage(path: &Path, bytes: &[u8]) -> io::Result<StagedFile> {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let result = (|| {
        // tempfile's own error names its random path; the caller names the target instead.
        let mut file =
            readable_by_umask().tempfile_in(folder).map_err(|error| error.raw_os_error().map_or(error, io::Error::from_raw_os_error))?;
        file.write_all(bytes)?;
        file.as_file().sync_all()?;
        Ok(file)
    })();
    // On failure the temporary file is removed when the error drops it.
    result.map(|file| StagedFile { file, path: path.to_path_buf() }).map_err(|error| with_path(error, path, "cannot write"))
}

impl StagedFile {
    /// Renames the file over its target, replacing whatever is there (a symlink is replaced,
    /// not followed).
    pub fn commit(self) -> io::Result<()> {
        let path = self.path;
        self.file.persist(&path).map(drop).map_err(|error| with_path(error.error, &path, "cannot write"))
    }

    /// Puts the file at its target only if nothing is there ([`io::ErrorKind::AlreadyExists`]
    /// otherwise, the target untouched).
    pub fn commit_new(self) -> io::Result<()> {
        let path = self.path;
        self.file.persist_noclobber(&path).map(drop).map_err(|error| with_path(error.error, &path, "cannot write"))
    }
}

/// The files written here are for readers (a web server, a colleague): created as a
/// program's files are, `0666` less the umask (`0644` under the usual `022`), not tempfile's
/// private `0600`. The exclusive create of a random name is unchanged.
fn readable_by_umask() -> tempfile::Builder<'static, 'static> {
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder
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

    #[test]
    fn an_atomic_write_replaces_a_symlink_instead_of_writing_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "keep me").unwrap();
        let output = dir.path().join("w20.html");
        std::os::unix::fs::symlink(&victim, &output).unwrap();
        // The old code wrote to the predictable `.<name>.<pid>.tmp`: a link planted there
        // redirected the write to any file the user could write.
        let planted = dir.path().join(format!(".w20.html.{}.tmp", std::process::id()));
        let other_victim = dir.path().join("other.txt");
        std::fs::write(&other_victim, "keep me too").unwrap();
        std::os::unix::fs::symlink(&other_victim, &planted).unwrap();

        write_atomically(&output, b"<html>").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(&other_victim).unwrap(), "keep me too");
        assert!(!std::fs::symlink_metadata(&output).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&output).unwrap(), "<html>");
        // No temporary file is left beside it (only the planted link, which is not ours).
        let names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names.len(), 4, "{names:?}");
    }

    /// The process's umask as the kernel reports it (`Umask:` in `/proc/self/status`), read
    /// without changing it (tests run in threads of one process).
    fn current_umask() -> u32 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find_map(|line| line.strip_prefix("Umask:")).unwrap();
        u32::from_str_radix(line.trim(), 8).unwrap()
    }

    #[test]
    fn written_files_get_the_modes_the_umask_allows_not_tempfiles_private_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        // Under the usual umask 022 that is 0644; under 077, 0600. tempfile alone gives 0600.
        let expected = 0o666 & !current_umask();
        let replaced = dir.path().join("w20.md");
        write_atomically(&replaced, b"x").unwrap();
        let new = dir.path().join("new.toml");
        write_new(&new, b"x").unwrap();
        assert_eq!((mode(&replaced), mode(&new)), (expected, expected), "umask {:o}", current_umask());
    }

    #[test]
    fn a_new_file_never_replaces_anything_that_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drafted.toml");
        write_new(&path, b"first").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let error = write_new(&path, b"second").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AlreadyExists, "{error}");
        assert!(error.to_string().contains(&path.display().to_string()), "{error}");
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        // A dangling symlink is something too: neither followed nor replaced.
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(dir.path().join("nowhere"), &link).unwrap();
        assert_eq!(write_new(&link, b"x").unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert!(!dir.path().join("nowhere").exists() && std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        // No temporary file is left behind by the refusals.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn of_writers_racing_for_one_new_path_exactly_one_wins_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.toml");
        let barrier = std::sync::Barrier::new(8);
        let results: Vec<(usize, io::Result<()>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|writer| {
                    let (path, barrier) = (&path, &barrier);
                    scope.spawn(move || {
                        let staged = stage(path, writer.to_string().repeat(10_000).as_bytes()).unwrap();
                        barrier.wait();
                        (writer, staged.commit_new())
                    })
                })
                .collect();
            handles.into_iter().map(|handle| handle.join().unwrap()).collect()
        });
        let winners: Vec<usize> = results.iter().filter(|(_, result)| result.is_ok()).map(|(writer, _)| *writer).collect();
        assert_eq!(winners.len(), 1, "{results:?}");
        assert!(results.iter().all(|(_, result)| result.as_ref().map_or_else(|e| e.kind() == io::ErrorKind::AlreadyExists, |()| true)));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), winners[0].to_string().repeat(10_000));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the losers' staged files are gone");
    }

    #[test]
    fn a_staged_file_dropped_uncommitted_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let staged = stage(&dir.path().join("a.toml"), b"data").unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        drop(staged);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_failed_atomic_write_names_the_path_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a folder: the rename fails.
        let target = dir.path().join("taken");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), "x").unwrap();
        let message = write_atomically(&target, b"data").unwrap_err().to_string();
        assert!(message.contains(&target.display().to_string()), "{message}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}

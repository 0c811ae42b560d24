//! `ratingwatch reports list|draft|add`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use clap::Subcommand;

use super::{Context, exit, out, outln, parse_date, terminal_width};
use crate::catalog;
use crate::draft::{self, render::MemberAnswer, render::Overrides};
use crate::ids::ReportId;
use crate::report::{self, Format, REPORTS_FORMATS};
use crate::store::{LoadOutcome, StoreError};

#[derive(Subcommand, Debug)]
pub enum ReportsCommand {
    /// List the reports in the database.
    List {
        /// Output format.
        #[arg(long, default_value = "table", value_parser = report::format_parser(REPORTS_FORMATS))]
        format: Format,
    },
    /// Draft a report file from a report's text: rule, sectors and companies resolved to symbols.
    Draft(DraftArgs),
    /// Validate a report file, copy it into the reports folder and load it.
    Add {
        /// The report file (TOML), e.g. one written by `reports draft`.
        path: PathBuf,
        /// Replace the folder's file for this report id when it differs from PATH [default:
        /// refuse].
        #[arg(long)]
        replace: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct DraftArgs {
    /// The report: its PDF (text extracted in-process), or its text as UTF-8 `.txt` or `.md`.
    pub file: PathBuf,
    /// The report id [default: broker-date-title words, e.g. zheshang-2023-02-14-chatgpt]
    #[arg(long, value_parser = clap::value_parser!(ReportId))]
    pub id: Option<ReportId>,
    /// Where to write the report file [default: <id>.toml in the current folder]
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// The report date, when the text does not state it.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date)]
    pub date: Option<NaiveDate>,
    /// The broker, when the text does not name it.
    #[arg(long)]
    pub broker: Option<String>,
    /// Write the file even when names are unresolved or parts of the rule are missing, each
    /// as a `# TODO` comment.
    #[arg(long)]
    pub allow_unresolved: bool,
}

pub fn run(context: &Context, command: &ReportsCommand) -> anyhow::Result<u8> {
    match command {
        ReportsCommand::List { format } => list(context, format),
        ReportsCommand::Draft(args) => run_draft(context, args),
        ReportsCommand::Add { path, replace } => add(context, path, *replace),
    }
}

fn list(context: &Context, format: &Format) -> anyhow::Result<u8> {
    let store = context.open_store()?;
    out(&report::render_reports(&store.reports()?, *format, terminal_width()))?;
    Ok(exit::OK)
}

fn run_draft(context: &Context, args: &DraftArgs) -> anyhow::Result<u8> {
    let bytes = std::fs::read(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
    let text = report_text(&args.file, bytes)?;
    let parsed = draft::parse(&text);

    let store = context.open_store()?;
    let resolver = super::instruments::resolver(&context.config, &store)?;
    let answers = draft::resolve_members(&parsed, &resolver);
    let source = args.file.file_name().map_or_else(|| args.file.display().to_string(), |name| name.to_string_lossy().to_string());
    let overrides = Overrides { id: args.id.clone(), report_date: args.date, broker: args.broker.clone(), source };
    let mut rendered = draft::render::render(&parsed, &answers, &overrides);
    let out = args.out.clone().unwrap_or_else(|| PathBuf::from(format!("{}.toml", rendered.id)));

    // A complete draft must pass the same validation `init` applies; a failure is one more
    // thing for a human (a rule with a gap, a rating outside the bands).
    if rendered.gaps.is_empty()
        && let Err(error) = catalog::parse_report(&out, &rendered.text)
    {
        rendered.gaps.push(format!("the drafted file does not validate: {error}"));
    }
    if resolver.is_empty() && answers.values().any(|a| matches!(a, MemberAnswer::Unresolved { .. })) {
        crate::cli::errln!(
            "note: the security master is empty; run `ratingwatch instruments sync` or `ratingwatch instruments import FILE.csv` first"
        );
    }
    for gap in &rendered.gaps {
        crate::cli::errln!("TODO {gap}");
    }
    if !rendered.gaps.is_empty() && !args.allow_unresolved {
        crate::cli::errln!(
            "{} item(s) need a human; nothing written (pass --allow-unresolved to write them as `# TODO` comments, or --date/--broker where asked)",
            rendered.gaps.len()
        );
        return Ok(exit::PARTIAL);
    }
    create_parent(&out)?;
    // Created, never replaced: a file that appears at `out` meanwhile is not overwritten either.
    match report::write_new(&out, rendered.text.as_bytes()) {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} already exists; choose another --out or remove it", out.display())
        }
        result => result?,
    }
    let companies = rendered.text.matches("[[companies]]").count();
    let sectors = rendered.text.matches("[[sectors]]").count();
    outln(&format!("{}: report {} with {companies} companies in {sectors} sectors", out.display(), rendered.id))?;
    if rendered.gaps.is_empty() {
        outln(&format!("next: check it against the report, then `ratingwatch reports add {}`", out.display()))?;
        Ok(exit::OK)
    } else {
        outln(&format!("{} `# TODO` item(s) to settle before `ratingwatch reports add {}`", rendered.gaps.len(), out.display()))?;
        Ok(exit::PARTIAL)
    }
}

/// A report file's text: a PDF (told by its `%PDF-` header, whatever its name) through
/// [`draft::pdf::text_of`], anything else as UTF-8 text. Errors name the file.
fn report_text(file: &Path, bytes: Vec<u8>) -> anyhow::Result<String> {
    if draft::pdf::is_pdf(&bytes) {
        return draft::pdf::text_of(&bytes).map_err(|error| anyhow::anyhow!("{} {error}", file.display()));
    }
    if file.extension().is_some_and(|extension| extension.eq_ignore_ascii_case("pdf")) {
        bail!("{} is named .pdf but does not start with a PDF header (`%PDF-`): not a PDF, or not a whole one", file.display());
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not UTF-8 text (invalid byte at offset {}); convert it first, e.g. `iconv -f GBK -t UTF-8`",
            file.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// Creates the folder `path` will be written in, when it is missing.
fn create_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    Ok(())
}

fn add(context: &Context, path: &Path, replace: bool) -> anyhow::Result<u8> {
    // One read: the bytes copied are the bytes validated.
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let report = catalog::parse_report(path, &text)?;
    let dir = &context.config.reports.dir;
    let target = dir.join(format!("{}.toml", report.id));
    // Another file in the folder with the same id would make the next `init` fail.
    if dir.exists() {
        for other in catalog::load_dir(dir)? {
            if other.id == report.id && !target.exists() {
                bail!("report id `{}` is already used by another file in {}", report.id, dir.display());
            }
        }
    }
    // The folder's file for this id is another report's version unless it holds the same bytes
    // (or is PATH itself): never replaced without `--replace`.
    let existing = match std::fs::read(&target) {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", target.display())),
    };
    let existed = existing.is_some();
    let write = match existing {
        None => true,
        Some(bytes) if bytes == text.as_bytes() => false,
        Some(_) if replace => true,
        Some(_) => bail!(
            "report id `{}`: {} already exists and differs from {}; pass --replace to replace it, or give the new report another id",
            report.id,
            target.display(),
            path.display()
        ),
    };
    // Opened before the copy: a new database loads the folder as it was, then this report.
    let mut store = context.create_store()?;
    // The database's version of this id (from another file, or the built-in seed) is replaced
    // only on request, and then every change is said: nothing changes silently.
    let loaded = match store.report(&report.id) {
        Ok(loaded) => Some(loaded),
        Err(StoreError::NotFound(_)) => None,
        Err(error) => return Err(error.into()),
    };
    let changes = loaded.as_ref().map(|loaded| catalog::differences(loaded, &report)).unwrap_or_default();
    if !changes.is_empty() && !replace {
        bail!(
            "report `{}` is already loaded and {} differs from it:\n  {}\npass --replace to load it anyway, or give the new report another id",
            report.id,
            path.display(),
            changes.join("\n  ")
        );
    }
    let file = match (write, existed) {
        (false, _) => "unchanged",
        (true, true) => "replaced",
        (true, false) => "written",
    };
    // The file is staged beside its target, the report loaded in its transaction, and only
    // then the file put in place: a failed load leaves no file behind (and an old version
    // untouched).
    let staged = if write {
        create_parent(&target)?;
        Some(report::stage(&target, text.as_bytes())?)
    } else {
        None
    };
    let outcome = store.load_report(&report, context.now).with_context(|| format!("loading report `{}`", report.id))?;
    match staged {
        Some(staged) if existed => staged.commit()?,
        // Another `reports add` may have written this id since the check above: not replaced.
        Some(staged) => match staged.commit_new() {
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => bail!(
                "report `{}` is loaded, but {} appeared meanwhile and was left as it is; compare it with {} and run `reports add --replace` with the right one",
                report.id,
                target.display(),
                path.display()
            ),
            result => result?,
        },
        None => {}
    }
    let said = match outcome {
        LoadOutcome::Added => "added",
        LoadOutcome::Updated => "updated",
        LoadOutcome::Unchanged => "unchanged",
    };
    outln(&format!(
        "report {}: {said} ({} companies in {} sectors, rating {}), file {} {file}",
        report.id,
        report.companies.len(),
        report.sectors.len(),
        report.rating_label().zh,
        target.display()
    ))?;
    for change in &changes {
        outln(&format!("  {change}"))?;
    }
    Ok(exit::OK)
}

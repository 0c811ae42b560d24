//! `ratingwatch instruments sync|import|find`: the security master, and the name resolver
//! other commands use ([`resolver`]).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use comfy_table::Table;

use tokio_util::sync::CancellationToken;

use super::{Context, exit, outln};
use crate::config::Config;
use crate::names::{Aliases, Candidate, Company, Resolution, Resolver, Step, import::parse_instruments};
use crate::providers::instruments::{InstrumentSources, ListSegment};
use crate::store::Store;
use crate::sync::instruments::sync_instruments;
use crate::text::quote;

#[derive(Subcommand, Debug)]
pub enum InstrumentsCommand {
    /// Fetch every listing of the A-share, HK and US markets from Eastmoney's list endpoint
    /// (100 rows a page, rate-limited) and store them. A market whose list fails stores nothing.
    Sync {
        /// Only this market's list (repeatable): A, HK or US [default: all three]
        #[arg(long = "market", value_name = "MARKET", value_parser = parse_segment)]
        markets: Vec<ListSegment>,
    },
    /// Import instruments from a CSV file with the header symbol,name[,name_en,kind,status]
    /// (symbols in any form: 0700.HK, hk00700, BABA.N, 600941). Nothing is written if any row is bad.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
    /// Which security is this name? Prints the resolution and the candidate listings.
    Find {
        /// A company name as a report writes it (商汤, 腾讯, Microsoft), or a symbol.
        name: String,
        /// Output format.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
        /// At most this many candidates.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// When the stored list cannot resolve the name, ask Eastmoney's search (then
        /// Tencent's smartbox) and store what they find.
        #[arg(long)]
        online: bool,
    },
}

/// The name resolver as configured: the stored security master, the shipped aliases plus the
/// user's alias file (`instruments.aliases`), and the listing preference (`instruments.prefer`).
pub fn resolver(config: &Config, store: &Store) -> anyhow::Result<Resolver> {
    let mut aliases = Aliases::shipped()?;
    if let Some(path) = &config.instruments.aliases {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the alias file {} (config key instruments.aliases)", path.display()))?;
        aliases.extend(Aliases::parse(&text, &path.display().to_string())?);
    }
    Ok(Resolver::new(store.instruments()?, aliases, &config.instruments.prefer))
}

pub fn run(context: &Context, command: &InstrumentsCommand) -> anyhow::Result<u8> {
    match command {
        InstrumentsCommand::Sync { markets } => sync(context, markets),
        InstrumentsCommand::Import { file } => import(context, file),
        InstrumentsCommand::Find { name, format, limit, online } => find(context, name, format, *limit, *online),
    }
}

fn sync(context: &Context, markets: &[ListSegment]) -> anyhow::Result<u8> {
    let segments: Vec<ListSegment> = if markets.is_empty() { ListSegment::ALL.to_vec() } else { markets.to_vec() };
    let sources = InstrumentSources::from_config(&context.config)?;
    let mut store = context.create_store()?;
    let runtime = super::runtime()?;
    let cancel = CancellationToken::new();
    let summary = runtime.block_on(async {
        let watcher = {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    crate::cli::errln!("interrupted: the list being fetched is dropped, nothing of it is stored");
                    cancel.cancel();
                }
            })
        };
        let mut on_page = |segment: ListSegment, page: usize, pages: usize| {
            tracing::info!(market = segment.as_str(), "list page {page} of {pages}");
        };
        let result = sync_instruments(&sources, &mut store, &segments, context.now, &cancel, &mut on_page).await;
        watcher.abort();
        result
    })?;
    for line in summary.lines() {
        outln(&line)?;
    }
    Ok(if summary.failures().is_empty() && !summary.cancelled() { exit::OK } else { exit::PARTIAL })
}

/// Asks the online search for `name` and stores what it finds (source `eastmoney` or
/// `tencent`); returns a line saying what happened.
pub fn lookup_online(config: &Config, store: &mut Store, name: &str, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<String> {
    let sources = InstrumentSources::from_config(config)?;
    let lookup = super::runtime()?.block_on(sources.lookup(name))?;
    let write = store.upsert_instruments(&lookup.instruments, lookup.provider.as_str(), now)?;
    let via = match &lookup.fallback_reason {
        Some(reason) => format!("{} ({reason})", lookup.provider),
        None => lookup.provider.to_string(),
    };
    Ok(format!("online search via {via}: {} listings, {} new", lookup.instruments.len(), write.added))
}

fn import(context: &Context, file: &PathBuf) -> anyhow::Result<u8> {
    let reader = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let rows = parse_instruments(file, std::io::BufReader::new(reader))?;
    let mut store = context.create_store()?;
    let stats = store.upsert_instruments(&rows, "import", context.now)?;
    outln(&format!("{}: {} instruments: {} added, {} updated", file.display(), rows.len(), stats.added, stats.updated))?;
    Ok(exit::OK)
}

fn find(context: &Context, name: &str, format: &str, limit: usize, online: bool) -> anyhow::Result<u8> {
    let mut store = context.open_store()?;
    let mut resolver = resolver(&context.config, &store)?;
    let (mut resolution, mut step) = resolver.resolve_with_step(name);
    if online && matches!(resolution, Resolution::NotFound { .. }) {
        crate::cli::errln!("{}", lookup_online(&context.config, &mut store, name, context.now)?);
        resolver = self::resolver(&context.config, &store)?;
        (resolution, step) = resolver.resolve_with_step(name);
    }
    let candidates = resolver.search(name, limit);
    if format == "json" {
        let value = serde_json::json!({
            "query": name,
            "step": step,
            "resolution": resolution,
            "candidates": candidates,
        });
        outln(&serde_json::to_string_pretty(&value)?)?;
    } else {
        outln(&describe(name, &resolution, step))?;
        if resolver.is_empty() {
            outln("(the security master is empty: run `ratingwatch instruments sync` or `ratingwatch instruments import FILE.csv`)")?;
        }
        let shown = match &resolution {
            Resolution::NotFound { suggestions } if candidates.is_empty() => suggestions.clone(),
            _ => candidates,
        };
        if !shown.is_empty() {
            outln(&candidate_table(&shown).to_string())?;
        }
    }
    Ok(match resolution {
        Resolution::Resolved(_) | Resolution::Many { .. } => exit::OK,
        Resolution::Ambiguous { .. } | Resolution::NotFound { .. } => exit::PARTIAL,
    })
}

/// Names come from input files and providers: shown through [`quote`], so a control
/// character in one is printed as a visible escape, never raw.
fn company_line(c: &Company) -> String {
    let mut line = format!("{} {}", c.primary, quote(&c.name));
    if let Some(en) = &c.name_en {
        line.push_str(&format!(" ({})", quote(en)));
    }
    if !c.alternates.is_empty() {
        let alternates: Vec<String> = c.alternates.iter().map(|s| s.to_string()).collect();
        line.push_str(&format!("; also {}", alternates.join(", ")));
    }
    line
}

/// One line saying what a name resolved to, for people.
pub fn describe(name: &str, resolution: &Resolution, step: Option<Step>) -> String {
    let name = &quote(name);
    let by = step.map(|s| format!(" (by {})", s.as_str())).unwrap_or_default();
    match resolution {
        Resolution::Resolved(c) => format!("{name} → {}{by}", company_line(c)),
        Resolution::Many { companies } => {
            let lines: Vec<String> = companies.iter().map(company_line).collect();
            format!("{name} → {} companies{by}: {}", companies.len(), lines.join(" | "))
        }
        Resolution::Ambiguous { candidates } => {
            let lines: Vec<String> = candidates.iter().map(company_line).collect();
            format!("{name}: ambiguous{by}, {} companies match: {}", candidates.len(), lines.join(" | "))
        }
        Resolution::NotFound { suggestions } if suggestions.is_empty() => format!("{name}: not found"),
        Resolution::NotFound { suggestions } => format!("{name}: not found; {} similar names below", suggestions.len()),
    }
}

fn candidate_table(candidates: &[Candidate]) -> Table {
    let mut table = Table::new();
    table.load_style(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header(["symbol", "name", "name_en", "kind", "status"]);
    for c in candidates {
        table.add_row([
            c.symbol.to_string(),
            quote(&c.name),
            c.name_en.as_deref().map(quote).unwrap_or_default(),
            c.kind.to_string(),
            c.status.to_string(),
        ]);
    }
    table
}

/// `--market A|HK|US` (any case), parsed by clap.
fn parse_segment(text: &str) -> Result<ListSegment, String> {
    ListSegment::parse(text).ok_or_else(|| format!("`{}` is not a market; use A, HK or US", crate::text::quote(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_escapes_control_characters_in_names() {
        let company = Company {
            primary: "0700.HK".parse().unwrap(),
            alternates: Vec::new(),
            name: "\u{1b}]0;pwned\u{7}腾讯控股".to_string(),
            name_en: Some("Ten\u{1b}[31mcent".to_string()),
        };
        let line = describe("腾讯", &Resolution::Resolved(company), None);
        assert_eq!(line, "腾讯 → 0700.HK \\u{1b}]0;pwned\\u{7}腾讯控股 (Ten\\u{1b}[31mcent)");
    }
}

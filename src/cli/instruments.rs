//! `ratingwatch instruments sync|import|find`: the security master, and the name resolver
//! other commands use ([`resolver`]).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use comfy_table::Table;

use super::{Context, exit};
use crate::config::Config;
use crate::names::{Aliases, Candidate, Company, Resolution, Resolver, Step, import::parse_instruments};
use crate::store::Store;

#[derive(Subcommand, Debug)]
pub enum InstrumentsCommand {
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
    Ok(Resolver::new(store.instruments()?, aliases, &config.instruments.preference()))
}

pub fn run(context: &Context, command: &InstrumentsCommand) -> anyhow::Result<u8> {
    match command {
        InstrumentsCommand::Import { file } => import(context, file),
        InstrumentsCommand::Find { name, format, limit } => find(context, name, format, *limit),
    }
}

fn import(context: &Context, file: &PathBuf) -> anyhow::Result<u8> {
    let reader = std::fs::File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let rows = parse_instruments(file, std::io::BufReader::new(reader))?;
    let mut store = context.open_store()?;
    let stats = store.upsert_instruments(&rows, "import", context.now)?;
    println!("{}: {} instruments: {} added, {} updated", file.display(), rows.len(), stats.added, stats.updated);
    Ok(exit::OK)
}

fn find(context: &Context, name: &str, format: &str, limit: usize) -> anyhow::Result<u8> {
    let store = context.open_store()?;
    let resolver = resolver(&context.config, &store)?;
    let (resolution, step) = resolver.resolve_with_step(name);
    let candidates = resolver.search(name, limit);
    if format == "json" {
        let value = serde_json::json!({
            "query": name,
            "step": step,
            "resolution": resolution,
            "candidates": candidates,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{}", describe(name, &resolution, step));
        if resolver.is_empty() {
            println!("(the security master is empty: run `ratingwatch instruments sync` or `ratingwatch instruments import FILE.csv`)");
        }
        let shown = match &resolution {
            Resolution::NotFound { suggestions } if candidates.is_empty() => suggestions.clone(),
            _ => candidates,
        };
        if !shown.is_empty() {
            println!("{}", candidate_table(&shown));
        }
    }
    Ok(match resolution {
        Resolution::Resolved(_) | Resolution::Many { .. } => exit::OK,
        Resolution::Ambiguous { .. } | Resolution::NotFound { .. } => exit::PARTIAL,
    })
}

fn company_line(c: &Company) -> String {
    let mut line = format!("{} {}", c.primary, c.name);
    if let Some(en) = &c.name_en {
        line.push_str(&format!(" ({en})"));
    }
    if !c.alternates.is_empty() {
        let alternates: Vec<String> = c.alternates.iter().map(|s| s.to_string()).collect();
        line.push_str(&format!("; also {}", alternates.join(", ")));
    }
    line
}

/// One line saying what a name resolved to, for people.
pub fn describe(name: &str, resolution: &Resolution, step: Option<Step>) -> String {
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
        table.add_row([c.symbol.to_string(), c.name.clone(), c.name_en.clone().unwrap_or_default(), c.kind.to_string(), c.status.to_string()]);
    }
    table
}

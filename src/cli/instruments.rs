//! `ratingwatch instruments …`: the security master (sync, import, find) and the resolver
//! other commands use.

use anyhow::Context as _;

use crate::config::Config;
use crate::names::{Aliases, Resolver};
use crate::store::Store;

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

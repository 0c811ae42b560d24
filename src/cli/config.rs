//! `ratingwatch config show`.

use clap::Subcommand;

use super::{Context, exit, out, outln};

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the effective configuration (defaults, file, environment and flags applied).
    Show,
}

pub fn run(context: &Context, command: &ConfigCommand) -> anyhow::Result<u8> {
    let ConfigCommand::Show = command;
    match &context.config_path {
        Some(path) => outln(&format!("# effective configuration; file: {}", path.display()))?,
        None => outln("# effective configuration; no config file, built-in defaults")?,
    }
    out(&context.config.to_toml())?;
    Ok(exit::OK)
}

//! `ratingwatch config show`.

use clap::Subcommand;

use super::{Context, exit};

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Print the effective configuration (defaults, file, environment and flags applied).
    Show,
}

pub fn run(context: &Context, command: &ConfigCommand) -> anyhow::Result<u8> {
    let ConfigCommand::Show = command;
    match &context.config_path {
        Some(path) => println!("# effective configuration; file: {}", path.display()),
        None => println!("# effective configuration; no config file, built-in defaults"),
    }
    print!("{}", context.config.to_toml());
    Ok(exit::OK)
}

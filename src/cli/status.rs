//! `ratingwatch status [--format json]`: each job's last and next run, data freshness.

use super::{Context, exit};
use crate::service::InstanceLock;
use crate::service::status::{collect, render_text};

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

pub fn run(context: &Context, args: &StatusArgs) -> anyhow::Result<u8> {
    let store = context.open_store()?;
    let running = InstanceLock::is_held(&context.config.database.path);
    let report = collect(&store, &context.config, context.now, running)?;
    match args.format.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&report)?),
        _ => print!("{}", render_text(&report)),
    }
    Ok(exit::OK)
}

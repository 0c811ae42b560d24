//! `ratingwatch status [--format json]`: each job's last and next run, data freshness.

use super::{Context, exit, out};
use crate::lock::InstanceLock;
use crate::report::{self, Format, STATUS_FORMATS};
use crate::status::collect;

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, default_value = "table", value_parser = report::format_parser(STATUS_FORMATS))]
    pub format: Format,
}

pub fn run(context: &Context, args: &StatusArgs) -> anyhow::Result<u8> {
    let store = context.open_store()?;
    let running = InstanceLock::is_held(&context.config.database.path);
    let status = collect(&store, &context.config, context.now, running)?;
    out(&report::render_status(&status, args.format, super::terminal_width()))?;
    Ok(exit::OK)
}

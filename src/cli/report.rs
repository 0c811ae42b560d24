//! `ratingwatch report`. Placeholder: being written.

use super::Context;

#[derive(clap::Args, Debug)]
pub struct ReportArgs {}

pub fn run(_context: &Context, _args: &ReportArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`report` is not implemented yet")
}

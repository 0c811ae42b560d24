//! `ratingwatch sync`. Placeholder: being written.

use super::Context;

#[derive(clap::Args, Debug)]
pub struct SyncArgs {}

pub fn run(_context: &Context, _args: &SyncArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`sync` is not implemented yet")
}

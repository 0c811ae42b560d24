//! `ratingwatch status`. Placeholder: being written.

use super::Context;

#[derive(clap::Args, Debug)]
pub struct StatusArgs {}

pub fn run(_context: &Context, _args: &StatusArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`status` is not implemented yet")
}

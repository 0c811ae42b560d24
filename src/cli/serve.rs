//! `ratingwatch serve`. Placeholder: being written.

use super::Context;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {}

pub fn run(_context: &Context, _args: &ServeArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`serve` is not implemented yet")
}

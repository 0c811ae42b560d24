//! `ratingwatch verdict`. Placeholder: being written.

use super::Context;

#[derive(clap::Args, Debug)]
pub struct VerdictArgs {}

pub fn run(_context: &Context, _args: &VerdictArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`verdict` is not implemented yet")
}

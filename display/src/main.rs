//! `jiaohao-display`: the wall display's thin binary. Everything is in the library.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    jiaohao_display::run(jiaohao_display::Args::parse())
}

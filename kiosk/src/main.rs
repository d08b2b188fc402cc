//! `jiaohao-kiosk`: the touchscreen ticket kiosk; everything is in the library.

use std::io::IsTerminal;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_max_level(tracing::Level::INFO)
        .init();
    jiaohao_kiosk::run(jiaohao_kiosk::Args::parse())
}

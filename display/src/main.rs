//! `jiaohao-display`: the wall display's thin binary. Everything is in the library.

fn main() -> anyhow::Result<()> {
    // Flags beat environment variables, which beat the `--config` file.
    let args: jiaohao_display::Args = jiaohao_config::parse();
    jiaohao_config::init_logging(args.log_format);
    jiaohao_display::run(args)
}

//! `jiaohao-kiosk`: the touchscreen ticket kiosk; everything is in the library.

fn main() -> anyhow::Result<()> {
    // Flags beat environment variables, which beat the `--config` file.
    let args: jiaohao_kiosk::Args = jiaohao_config::parse();
    jiaohao_config::init_logging(args.log_format);
    jiaohao_kiosk::run(args)
}

//! The hub daemon: `jiaohao-hub serve --db PATH --listen ADDR [--hall FILE]`, and token
//! management. All of it lives in the `jiaohao-hub` library.

fn main() -> anyhow::Result<()> {
    jiaohao_hub::cli::main()
}

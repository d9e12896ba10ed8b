//! `qun`: the command line of a qun node.

use clap::Parser;
use qun_node::cli::{Cli, run};

fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,qun_node=info,libp2p_kad=error")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {}", e.message);
        eprintln!("hint: {}", e.hint);
        std::process::exit(e.code as i32);
    }
}

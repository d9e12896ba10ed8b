//! `qun`: the command line of a qun node.

use clap::Parser;
use qun_node::cli::{Cli, run};

fn main() {
    let cli = Cli::parse();
    qun_node::logging::init(cli.log_format);
    if let Err(e) = run(cli) {
        eprintln!("error: {}", e.message);
        eprintln!("hint: {}", e.hint);
        std::process::exit(e.code as i32);
    }
}

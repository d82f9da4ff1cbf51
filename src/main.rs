//! The `chopay` binary: parses the command line and hands over to [`chopay::cli`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = chopay::cli::Cli::parse();
    match chopay::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chopay: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

//! The `chopay` binary: parses the command line and hands over to [`chopay::cli`].
//!
//! Every failure ends as one line on standard error (`chopay: …`) and a non-zero exit code:
//! 2 for input the user can fix (including unknown or malformed arguments), 1 for the machine's.

use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

/// mimalloc for every allocation of the process (with the `override` feature SQLite's C code uses
/// it too): measured in `benches/callbacks.rs`, see the README's "Performance".
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match chopay::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error)
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            // Help and version go to standard output, as asked.
            let _ = error.print();
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("chopay: {}", one_line(&error.to_string()));
            return ExitCode::from(2);
        }
    };
    match chopay::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("chopay: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// Clap's message without its `error:` prefix and usage footer, folded onto one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_owned()
}

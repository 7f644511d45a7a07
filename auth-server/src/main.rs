//! `auth-server`: parse the command line, run the command, and exit with the code of its
//! failure (see `cli::CliError` and README, "Operator CLI") after printing why to stderr.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = auth_server::cli::Cli::parse();
    match auth_server::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Nothing more can be said if stderr is closed; the exit code still tells.
            let _closed = writeln!(std::io::stderr(), "auth-server: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

//! `auth-server`: parse the command line, load the settings, run the command.

use std::process::ExitCode;

use clap::Parser as _;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = auth_server::cli::Cli::parse();
    auth_server::cli::run(cli).await
}

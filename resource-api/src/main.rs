//! `resource-api serve`: the task API server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "resource-api",
    version,
    about = "The task API (OAuth 2.0 resource server)"
)]
struct Cli {
    /// A TOML file of settings (environment variables override it).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the task API server.
    Serve,
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match shared::startup::load_settings("resource-api", cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let Command::Serve = cli.command;
    let result = match resource_api::startup::build(settings).await {
        Ok(app) => app.run_until_stopped().await.map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    shared::startup::exit_code("resource-api", result)
}

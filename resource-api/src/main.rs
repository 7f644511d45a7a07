//! `resource-api serve`: the task API server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shared::config::Settings;

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
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("resource-api: configuration error: {error}");
            return ExitCode::from(2);
        }
    };
    shared::telemetry::init(settings.log_format);
    let Command::Serve = cli.command;
    let result = match resource_api::startup::Application::build(settings).await {
        Ok(app) => app.run_until_stopped().await.map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("resource-api: {message}");
            ExitCode::FAILURE
        }
    }
}

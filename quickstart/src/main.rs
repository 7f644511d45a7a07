//! `cargo run`: both servers in one process on the embedded SQLite default, for trying the
//! project on a laptop. Production runs `auth-server serve` and `resource-api serve` apart.

use std::process::ExitCode;

use shared::config::Mode;

#[actix_web::main]
async fn main() -> ExitCode {
    let config_file = std::env::args_os()
        .skip_while(|arg| arg != "--config")
        .nth(1)
        .map(std::path::PathBuf::from);
    let settings = match shared::startup::load_settings("quickstart", config_file.as_deref()) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    if settings.mode == Mode::Production {
        eprintln!(
            "quickstart: is for development; run `auth-server serve` and `resource-api serve` in production"
        );
        return ExitCode::from(shared::startup::EXIT_CONFIG);
    }
    // One migration run before either server starts, so they do not race on SQLite.
    let auth = match auth_server::startup::build(settings.clone()).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("quickstart: auth-server: {error}");
            return ExitCode::FAILURE;
        }
    };
    let api = match resource_api::startup::build(settings.clone()).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("quickstart: resource-api: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "\n  Tasks Account is running on {database}\n\
         \n    sign up / sign in   {issuer}/register   {issuer}/login\
         \n    your account        {issuer}/account\
         \n    task API            http://{api_bind}  (health: /healthz, /readyz)\
         \n\n  Create a user from a terminal instead:\
         \n    echo 'a long passphrase of your own' | cargo run -p auth-server -- users create --username alice --email alice@example.com\
         \n\n  Stop with Ctrl-C.\n",
        database = settings.database.url,
        issuer = settings.urls.issuer,
        api_bind = settings.http.resource_api_bind,
    );
    let (auth_result, api_result) =
        futures_util::future::join(auth.run_until_stopped(), api.run_until_stopped()).await;
    shared::startup::exit_code("quickstart", auth_result.and(api_result))
}

//! The settings' behaviour: defaults, errors naming the setting, production rules, the
//! TOML file; and README's table and `.env.example` held to the declarations.

use std::collections::HashMap;
use std::time::Duration;

use super::source::read_toml_file;
use super::*;
use crate::parse::duration as parse_duration;

type RawSettings = HashMap<String, String>;

fn values(pairs: &[(&str, &str)]) -> RawSettings {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_are_development_on_sqlite_and_loopback() {
    let settings = Settings::from_values(RawSettings::new()).unwrap();
    assert_eq!(settings.mode, Mode::Development);
    assert_eq!(
        settings.database.url,
        DatabaseUrl::Sqlite(DEFAULT_SQLITE_PATH.into())
    );
    assert_eq!(settings.http.auth_server_bind.to_string(), "127.0.0.1:8080");
    assert_eq!(
        settings.http.resource_api_bind.to_string(),
        "127.0.0.1:8081"
    );
    assert_eq!(settings.urls.issuer, "http://127.0.0.1:8080");
    assert_eq!(settings.sessions.idle_timeout, Duration::from_secs(1800));
    assert_eq!(
        settings.sessions.absolute_lifetime,
        Duration::from_secs(86_400)
    );
    assert_eq!(settings.login.max_failures, 5);
    assert_eq!(settings.login.lockout, Duration::from_secs(900));
    assert_eq!(
        settings.password_hashing,
        PasswordHashSettings {
            threads: 1,
            queue: 32
        }
    );
    assert!(!settings.is_https());
}

#[test]
fn database_url_scheme_picks_the_backend() {
    assert!(
        DatabaseUrl::parse("postgres://u@h/db")
            .unwrap()
            .is_postgres()
    );
    assert!(
        DatabaseUrl::parse("postgresql://u@h/db")
            .unwrap()
            .is_postgres()
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
        DatabaseUrl::Sqlite("data/x.db".into())
    );
    assert_eq!(
        DatabaseUrl::parse("sqlite:///abs/x.db").unwrap(),
        DatabaseUrl::Sqlite("/abs/x.db".into())
    );
    assert_eq!(
        DatabaseUrl::parse("x.db").unwrap(),
        DatabaseUrl::Sqlite("x.db".into())
    );
    assert!(DatabaseUrl::parse("mysql://h/db").is_err());
    assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
}

#[test]
fn database_url_debug_hides_the_password() {
    let url = DatabaseUrl::parse("postgres://app:hunter2@db:5432/prod?sslmode=require").unwrap();
    let shown = format!("{url:?} {url}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("postgres://app:***@db:5432/prod"), "{shown}");
}

#[test]
fn a_bad_value_names_the_setting() {
    for (name, value) in [
        ("AUTH_SERVER_BIND", "nonsense"),
        ("SESSION_IDLE_TIMEOUT", "soon"),
        ("SESSION_MAX_PER_USER", "0"),
        ("APP_ENV", "staging"),
        ("ISSUER", "ftp://x"),
        ("TRUST_PROXY_HEADERS", "maybe"),
        ("KEY_ENCRYPTION_KEY", "short"),
        ("AUTHORIZATION_CODE_TTL", "11m"),
        ("RESOURCE_API_URL", "http://api.example.com"),
        ("REFRESH_TOKEN_TTL", "1d"),
    ] {
        let error = Settings::from_values(values(&[(name, value)])).unwrap_err();
        assert!(error.to_string().contains(name), "{name}: {error}");
    }
}

#[test]
fn password_hashing_needs_a_thread_and_a_queue_place_and_is_capped() {
    let read = |threads: &str, queue: &str| {
        Settings::from_values(values(&[
            ("PASSWORD_HASH_THREADS", threads),
            ("PASSWORD_HASH_QUEUE", queue),
        ]))
        .map(|s| s.password_hashing)
    };
    assert_eq!(
        read("4", "1").unwrap(),
        PasswordHashSettings {
            threads: 4,
            queue: 1
        }
    );
    assert_eq!(read("64", "4096").unwrap().threads, 64);
    for (threads, queue, named) in [
        ("0", "32", "PASSWORD_HASH_THREADS"),
        ("65", "32", "PASSWORD_HASH_THREADS"),
        ("two", "32", "PASSWORD_HASH_THREADS"),
        ("1", "0", "PASSWORD_HASH_QUEUE"),
        ("1", "4097", "PASSWORD_HASH_QUEUE"),
        ("1", "-1", "PASSWORD_HASH_QUEUE"),
    ] {
        let error = read(threads, queue).unwrap_err().to_string();
        assert!(error.contains(named), "{threads}/{queue}: {error}");
    }
}

#[test]
fn http_issuer_only_for_loopback_in_development() {
    for ok in [
        "http://localhost:8080",
        "http://127.0.0.1",
        "http://[::1]:9000",
    ] {
        assert!(
            Settings::from_values(values(&[("ISSUER", ok)])).is_ok(),
            "{ok}"
        );
    }
    let error =
        Settings::from_values(values(&[("ISSUER", "http://auth.example.com")])).unwrap_err();
    assert!(error.to_string().contains("loopback"), "{error}");
}

#[test]
fn production_lists_everything_missing() {
    let error = Settings::from_values(values(&[("APP_ENV", "production")])).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("https"), "{message}");
    assert!(message.contains("DATABASE_URL"), "{message}");
    assert!(message.contains("KEY_ENCRYPTION_KEY"), "{message}");
    assert!(message.contains("SMTP_URL"), "{message}");
    assert!(message.contains("TLS_CERT_FILE"), "{message}");
    assert!(message.contains("TRUST_PROXY_HEADERS"), "{message}");

    let ok = Settings::from_values(values(&[
        ("APP_ENV", "production"),
        ("TRUST_PROXY_HEADERS", "true"),
        ("ISSUER", "https://auth.example.com/"),
        ("DATABASE_URL", "postgres://app@db/prod"),
        ("KEY_ENCRYPTION_KEY", "0123456789abcdef0123456789abcdef"),
        ("SMTP_URL", "smtps://mailer:smtp-secret-1@mail.example.com"),
    ]))
    .unwrap();
    assert!(!format!("{ok:?}").contains("smtp-secret-1"));
    assert_eq!(ok.urls.issuer, "https://auth.example.com");
    assert!(ok.is_https());
    assert!(!format!("{ok:?}").contains("0123456789abcdef"));
}

#[test]
fn tls_takes_both_files_and_satisfies_production_without_a_proxy() {
    let production = [
        ("APP_ENV", "production"),
        ("ISSUER", "https://auth.example.com"),
        ("DATABASE_URL", "postgres://app@db/prod"),
        ("KEY_ENCRYPTION_KEY", "0123456789abcdef0123456789abcdef"),
        ("MAIL_TRANSPORT", "file:/var/spool/tasks"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = production.to_vec();
        all.extend_from_slice(extra);
        Settings::from_values(values(&all))
    };
    let plain = with(&[]).unwrap_err().to_string();
    assert!(
        plain.contains("TLS_CERT_FILE and TLS_KEY_FILE, or TRUST_PROXY_HEADERS"),
        "{plain}"
    );

    let tls = with(&[
        ("TLS_CERT_FILE", "/etc/tls/fullchain.pem"),
        ("TLS_KEY_FILE", "/etc/tls/privkey.pem"),
    ])
    .unwrap();
    let files = tls.http.tls.expect("TLS files");
    assert_eq!(
        files.certificate,
        std::path::Path::new("/etc/tls/fullchain.pem")
    );
    assert_eq!(files.key, std::path::Path::new("/etc/tls/privkey.pem"));
    assert!(
        with(&[("TRUST_PROXY_HEADERS", "true")])
            .unwrap()
            .http
            .tls
            .is_none()
    );

    let half = with(&[("TLS_CERT_FILE", "/etc/tls/fullchain.pem")])
        .unwrap_err()
        .to_string();
    assert!(
        half.contains("TLS_KEY_FILE") && half.contains("needed"),
        "{half}"
    );
    let other_half = Settings::from_values(values(&[("TLS_KEY_FILE", "/k.pem")]))
        .unwrap_err()
        .to_string();
    assert!(other_half.contains("TLS_CERT_FILE"), "{other_half}");
}

#[test]
fn durations_accept_units() {
    assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
    assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
    assert_eq!(parse_duration("7d"), Some(Duration::from_secs(604_800)));
    assert_eq!(
        parse_duration("3650d"),
        Some(Duration::from_secs(3650 * 86_400))
    );
    for bad in ["", "0", "-5", "5x", "m", "99999999999999999999d", "3651d"] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
    // A setting too long to add to a timestamp is refused at startup, not at use.
    let error = Settings::from_values(values(&[("SESSION_ABSOLUTE_LIFETIME", "100000d")]))
        .unwrap_err()
        .to_string();
    assert!(error.contains("SESSION_ABSOLUTE_LIFETIME"), "{error}");
}

#[test]
fn toml_file_is_read_and_environment_names_are_its_keys() {
    let dir = std::env::temp_dir().join(format!("cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "session_max_per_user = 3\nissuer = \"http://localhost:9000\"\n",
    )
    .unwrap();
    let raw = read_toml_file(&path).unwrap();
    let settings = Settings::from_values(raw).unwrap();
    assert_eq!(settings.sessions.max_per_user, 3);
    assert_eq!(settings.urls.issuer, "http://localhost:9000");

    std::fs::write(&path, "sesion_max_per_user = 3\n").unwrap();
    let error = Settings::from_values(read_toml_file(&path).unwrap()).unwrap_err();
    assert!(error.to_string().contains("sesion_max_per_user"), "{error}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cors_origins_are_exact_and_as_browsers_send_them() {
    let parse = |list: &str| {
        Settings::from_values(values(&[("CORS_ALLOWED_ORIGINS", list)]))
            .map(|s| s.http.cors_allowed_origins)
    };
    assert_eq!(
        parse("https://App.example.com, http://127.0.0.1:5173\thttp://[::1]:3000").unwrap(),
        [
            "https://app.example.com",
            "http://127.0.0.1:5173",
            "http://[::1]:3000"
        ]
    );
    assert!(
        Settings::from_values(RawSettings::new())
            .unwrap()
            .http
            .cors_allowed_origins
            .is_empty()
    );
    for refused in [
        "*",
        "null",
        "https://app.example.com/",
        "https://app.example.com/path",
        "app.example.com",
        "ftp://app.example.com",
        "https://*.example.com",
        "https://app.example.com:443",
        "https://app.example.com:0",
        "https://app.example.com:99999",
        "https://",
    ] {
        let error = parse(refused).unwrap_err().to_string();
        assert!(error.contains("CORS_ALLOWED_ORIGINS"), "{refused}: {error}");
    }
}

/// README's "Configuration" table: each row's name, default and meaning.
fn readme_rows() -> Vec<(String, String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    readme
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.strip_prefix("| `")?.splitn(3, " | ").collect();
            let [name, default, meaning] = cells.as_slice() else {
                return None;
            };
            let name = name.strip_suffix('`')?;
            name.bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_')
                .then(|| {
                    (
                        name.to_owned(),
                        (*default).to_owned(),
                        meaning.trim_end_matches(" |").to_owned(),
                    )
                })
        })
        .collect()
}

fn shown_default(default: declare::Default) -> String {
    match default {
        declare::Default::Value(value) => format!("`{value}`"),
        declare::Default::Described(words) => words.to_owned(),
        declare::Default::Unset => "—".to_owned(),
    }
}

#[test]
fn every_setting_is_declared_once_and_readme_shows_its_declaration() {
    let declared = Settings::declarations();
    assert!(declared.len() >= 30, "{declared:?}");
    let mut names: Vec<&str> = declared.iter().map(|d| d.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), declared.len(), "a setting is read twice");

    let rows = readme_rows();
    for declaration in &declared {
        let row = rows
            .iter()
            .find(|(name, _, _)| name == declaration.name)
            .unwrap_or_else(|| panic!("README's table has no row for {}", declaration.name));
        assert_eq!(
            row.1,
            shown_default(declaration.default),
            "{}",
            declaration.name
        );
        assert_eq!(row.2, declaration.doc, "{}", declaration.name);
    }
    for (name, _, _) in &rows {
        assert!(
            declared.iter().any(|d| d.name == name),
            "README lists {name}, which is not a setting"
        );
    }
}

#[test]
fn env_example_lists_every_setting_with_its_default() {
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../.env.example"))
        .expect(".env.example");
    let assignments: Vec<(&str, &str)> = example
        .lines()
        .map(|line| line.trim_start_matches("# ").trim())
        .filter_map(|line| line.split_once('='))
        .filter(|(name, _)| name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
        .collect();
    for declaration in Settings::declarations() {
        let found: Vec<&(&str, &str)> = assignments
            .iter()
            .filter(|(name, _)| *name == declaration.name)
            .collect();
        assert_eq!(found.len(), 1, "{} in .env.example", declaration.name);
        let (_, value) = found[0];
        if let declare::Default::Value(default) = declaration.default {
            assert_eq!(*value, default, "{}", declaration.name);
        }
        // The example must be a value the setting accepts.
        let mut values = RawSettings::new();
        values.insert(declaration.name.to_owned(), (*value).to_owned());
        // Settings that are only given together are tried together.
        for (one, other) in [
            ("TLS_CERT_FILE", "TLS_KEY_FILE"),
            ("TLS_KEY_FILE", "TLS_CERT_FILE"),
        ] {
            if declaration.name == one
                && let Some((_, partner)) = assignments.iter().find(|(name, _)| *name == other)
            {
                values.insert(other.to_owned(), (*partner).to_owned());
            }
        }
        if declaration.name == "APP_ENV" || value.is_empty() {
            continue;
        }
        Settings::from_values(values)
            .unwrap_or_else(|e| panic!(".env.example's {}: {e}", declaration.name));
    }
    for (name, _) in &assignments {
        assert!(
            Settings::declarations().iter().any(|d| d.name == *name),
            ".env.example sets {name}, which is not a setting"
        );
    }
}

#[test]
fn a_value_for_an_undeclared_name_is_refused() {
    let error = Settings::from_values(values(&[("SESSION_IDLE_TIMOUT", "5m")])).unwrap_err();
    assert!(error.to_string().contains("session_idle_timout"), "{error}");
}

/// A folder of its own under the system's temporary folder, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("settings-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A file in the test's temporary folder holding `content`; the path as text.
fn secret_file(dir: &TempDir, name: &str, content: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn secrets_can_be_read_from_files_with_the_trailing_newline_trimmed() {
    let dir = TempDir::new();
    let key = "k".repeat(40);
    let settings = Settings::from_values(values(&[
        (
            "KEY_ENCRYPTION_KEY_FILE",
            &secret_file(&dir, "kek", &format!("{key}\n")),
        ),
        (
            "DATABASE_URL_FILE",
            &secret_file(&dir, "db", "postgres://app:pw@db.internal/oauth\n"),
        ),
        (
            "REDIS_URL_FILE",
            &secret_file(&dir, "redis", "redis://:pw@127.0.0.1:6379"),
        ),
        (
            "SMTP_URL_FILE",
            &secret_file(&dir, "smtp", "smtp://user:pw@mail.example.com:587"),
        ),
    ]))
    .unwrap();
    assert_eq!(
        settings.keys.encryption_key.as_ref().map(|k| k.expose()),
        Some(key.as_str())
    );
    assert!(settings.database.url_given);
    assert!(settings.database.url.is_postgres());
    assert_eq!(
        settings.rate_limits.redis_url.as_ref().map(|u| u.expose()),
        Some("redis://:pw@127.0.0.1:6379")
    );
    assert!(matches!(settings.mail.transport, MailTransport::Smtp(_)));
}

#[test]
fn a_secret_given_both_ways_or_from_a_missing_file_is_refused_by_name() {
    let dir = TempDir::new();
    let both = Settings::from_values(values(&[
        ("REDIS_URL", "redis://127.0.0.1:6379"),
        (
            "REDIS_URL_FILE",
            &secret_file(&dir, "redis", "redis://127.0.0.1:6380"),
        ),
    ]))
    .unwrap_err()
    .to_string();
    assert!(both.contains("REDIS_URL_FILE"), "{both}");
    assert!(both.contains("set one of them"), "{both}");

    let missing = dir.path().join("absent").to_str().unwrap().to_owned();
    let error = Settings::from_values(values(&[("KEY_ENCRYPTION_KEY_FILE", &missing)]))
        .unwrap_err()
        .to_string();
    assert!(error.contains("KEY_ENCRYPTION_KEY_FILE"), "{error}");
    assert!(error.contains("absent"), "{error}");

    let empty = secret_file(&dir, "empty", "\n");
    let error = Settings::from_values(values(&[("DATABASE_URL_FILE", &empty)]))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("DATABASE_URL_FILE") && error.contains("empty"),
        "{error}"
    );

    // A file's value is checked like a plain one, and the error never shows the secret.
    let short = secret_file(&dir, "short", "tooshort-secret");
    let error = Settings::from_values(values(&[("KEY_ENCRYPTION_KEY_FILE", &short)]))
        .unwrap_err()
        .to_string();
    assert!(error.contains("KEY_ENCRYPTION_KEY"), "{error}");
    assert!(!error.contains("tooshort-secret"), "{error}");
}

#[test]
fn only_secrets_have_a_file_form_and_the_toml_file_may_use_it() {
    let dir = TempDir::new();
    let error = Settings::from_values(values(&[(
        "LOGIN_LOCKOUT_FILE",
        &secret_file(&dir, "lockout", "5m"),
    )]))
    .unwrap_err();
    assert!(error.to_string().contains("login_lockout_file"), "{error}");

    let kek = secret_file(&dir, "kek", &"s".repeat(32));
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("key_encryption_key_file = {:?}\n", kek.as_str()),
    )
    .unwrap();
    let settings = Settings::from_values(read_toml_file(&config).unwrap()).unwrap();
    assert!(settings.keys.encryption_key.is_some());
    for (name, _) in declare::FILE_FORMS {
        assert!(
            Settings::declarations().iter().any(|d| d.name == *name),
            "{name} has a file form but is not a setting"
        );
    }
}

#[test]
fn readme_names_every_file_form() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    for (_, file_name) in declare::FILE_FORMS {
        assert!(
            readme.contains(file_name),
            "README does not name {file_name}"
        );
    }
}

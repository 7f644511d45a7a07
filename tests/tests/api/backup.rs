//! Backup and restore (README, "Backup and restore"): a copy taken while the server runs —
//! `backup_sqlite` (what `auth-server backup` runs) on SQLite, `pg_dump | pg_restore` on
//! PostgreSQL — restored into a fresh database, a new server started on it with the same
//! `KEY_ENCRYPTION_KEY`: tokens issued before the backup still verify, and the refresh
//! token issued before it still refreshes.

use shared::db::DbError;

use crate::support::database::TestDatabase;
use crate::support::oauth_client::{ClientOptions, field};
use crate::support::servers::{spawn_app_on, spawn_app_with};

const KEK: [(&str, &str); 1] = [(
    "KEY_ENCRYPTION_KEY",
    "backup-test-kek-0123456789abcdefghijklmnop",
)];

/// Copies the database of `url` into the fresh `into_url` with the PostgreSQL tools.
fn pg_copy(url: &str, into_url: &str) {
    let dump = std::process::Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", url])
        .output()
        .expect("pg_dump runs (PostgreSQL's client tools)");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let mut restore = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", into_url])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("pg_restore runs");
    std::io::Write::write_all(restore.stdin.as_mut().unwrap(), &dump.stdout).unwrap();
    drop(restore.stdin.take());
    let restored = restore.wait_with_output().unwrap();
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
}

#[actix_web::test]
async fn a_restored_copy_verifies_and_refreshes_the_tokens_issued_before_it() {
    let app = spawn_app_with(&KEK).await;
    let client = app.register_client(ClientOptions::default()).await;
    let before = app.signed_in_user("alice").await.tokens_for(&client).await;

    let (copy, copy_url) = TestDatabase::create();
    if app.is_postgres() {
        pg_copy(app.database_url(), &copy_url);
    } else {
        let path = copy_url.trim_start_matches("sqlite://").to_owned();
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
        app.db
            .run(move |conn| -> Result<(), DbError> {
                shared::db::backup_sqlite(conn, std::path::Path::new(&path)).map_err(|e| match e {
                    shared::db::BackupError::Db(db) => db,
                    other => panic!("{other}"),
                })
            })
            .await
            .unwrap();
    }
    // Tokens issued after the backup are not in it.
    let after_backup = app.signed_in_user("bob").await.tokens_for(&client).await;

    let restored = spawn_app_on(copy, &copy_url, &KEK).await;
    let claims = restored
        .verify_access_token(&field(&before, "access_token"))
        .await;
    assert_eq!(claims["client_id"], client.client_id.as_str());
    let refreshed = restored
        .refresh(&client, &field(&before, "refresh_token"), None)
        .await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: serde_json::Value = refreshed.json().await.unwrap();
    restored
        .verify_access_token(&field(&refreshed, "access_token"))
        .await;
    let unknown = restored
        .refresh(&client, &field(&after_backup, "refresh_token"), None)
        .await;
    assert_eq!(
        unknown.status(),
        400,
        "a token issued after the backup is not in it"
    );
}

//! Client secrets (SECURITY.md 13): stored only as their SHA-256, at registration and after
//! a rotation; the value shown once is the one the token endpoint accepts.

use diesel::prelude::*;
use sha2::{Digest, Sha256};
use shared::schema::clients;

use crate::support::oauth_client::{ClientOptions, TestClient};
use crate::support::servers::{TestApp, spawn_app};

/// Every text column of the client's row.
async fn stored_row(app: &TestApp, client_id: &str) -> Vec<Option<String>> {
    let client_id = client_id.to_owned();
    let (id, secret_hash, name, redirect_uris, scopes, grant_types): (
        String,
        Option<String>,
        String,
        String,
        String,
        String,
    ) = app
        .query(move |c| {
            clients::table
                .filter(clients::client_id.eq(client_id))
                .select((
                    clients::client_id,
                    clients::secret_hash,
                    clients::name,
                    clients::redirect_uris,
                    clients::scopes,
                    clients::grant_types,
                ))
                .first(c)
        })
        .await;
    vec![
        Some(id),
        secret_hash,
        Some(name),
        Some(redirect_uris),
        Some(scopes),
        Some(grant_types),
    ]
}

/// The secret is in no column, and the hash column holds its hex SHA-256.
async fn assert_stored_hashed(app: &TestApp, client_id: &str, secret: &str) {
    let row = stored_row(app, client_id).await;
    let random_part = secret.strip_prefix("cs_").unwrap();
    for value in row.iter().flatten() {
        assert!(
            !value.contains(random_part),
            "the secret is stored as is: {value}"
        );
    }
    let sha256: String = Sha256::digest(secret.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    assert_eq!(row[1].as_deref(), Some(sha256.as_str()));
}

async fn token_status(app: &TestApp, client: &TestClient) -> u16 {
    app.token_request(client, &[("grant_type", "client_credentials".to_owned())])
        .await
        .status()
        .as_u16()
}

#[actix_web::test]
async fn a_client_secret_is_stored_only_as_its_sha256_even_after_rotation() {
    let app = spawn_app().await;
    let client = app
        .register_client(ClientOptions {
            grant_types: vec![
                "authorization_code".into(),
                "client_credentials".into(),
                "refresh_token".into(),
            ],
            ..ClientOptions::default()
        })
        .await;
    let secret = client.secret.clone().unwrap();
    assert_stored_hashed(&app, &client.client_id, &secret).await;
    assert_eq!(token_status(&app, &client).await, 200, "the secret works");

    let rotated = auth_server::oauth::clients::rotate_secret(&app.db, client.client_id.clone())
        .await
        .unwrap()
        .unwrap();
    let new_secret = rotated.expose().to_owned();
    assert_ne!(new_secret, secret);
    assert_stored_hashed(&app, &client.client_id, &new_secret).await;
    let rotated_client = TestClient {
        secret: Some(new_secret),
        ..client.clone()
    };
    assert_eq!(token_status(&app, &rotated_client).await, 200);
    assert_eq!(token_status(&app, &client).await, 401, "the old secret");
}

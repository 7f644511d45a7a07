//! What `auth-server doctor` reads about clients and the database: each client's last use,
//! recorded by the token endpoint in the background, and the PostgreSQL connection limit.

use std::time::Duration;

use diesel::prelude::*;
use shared::db::DbError;
use shared::schema::client_usage;

use crate::support::oauth_client::service_client;
use crate::support::servers::{TestApp, spawn_app};

/// The last use stored for `client_id`, if any.
async fn recorded(app: &TestApp, client_id: String) -> Option<chrono::NaiveDateTime> {
    app.query(move |c| {
        client_usage::table
            .find(client_id)
            .select(client_usage::last_used_at)
            .get_result(c)
            .optional()
    })
    .await
}

#[actix_web::test]
async fn a_clients_token_request_records_its_last_use() {
    let app = spawn_app().await;
    let service = app.register_client(service_client()).await;
    let before = shared::models::now();
    assert_eq!(recorded(&app, service.client_id.clone()).await, None);
    let response = app
        .token_request(&service, &[("grant_type", "client_credentials".to_owned())])
        .await;
    assert_eq!(response.status(), 200);
    // Written in the background: the response did not wait for it.
    let mut last_use = None;
    for _ in 0..100 {
        last_use = recorded(&app, service.client_id.clone()).await;
        if last_use.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let last_use = last_use.expect("the token request recorded the client's use");
    assert!(last_use >= before, "{last_use} >= {before}");

    // A refused authentication records nothing for anyone.
    let unknown = "client_unknown".to_owned();
    let response = reqwest::Client::new()
        .post(app.url("/token"))
        .basic_auth(&unknown, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(recorded(&app, unknown).await, None);
}

#[actix_web::test]
async fn the_connection_limit_is_read_from_postgresql_only() {
    let app = spawn_app().await;
    let limit = app
        .db
        .run(|conn| -> Result<_, DbError> { shared::db::connection_limit(conn) })
        .await
        .unwrap();
    if app.is_postgres() {
        assert!(limit.is_some_and(|n| n > 0), "{limit:?}");
    } else {
        assert_eq!(limit, None);
    }
}

//! The task API's revocation list (SECURITY.md 19): a revoked token stays refused for as
//! long as the API would accept it (`exp` plus the leeway), and every revocation is picked
//! up within a second whatever the clocks say and in whatever order transactions commit
//! (the `token_revocations` feed, numbered by the database in commit order).

use std::time::{Duration, Instant};

use diesel::prelude::*;
use reqwest::Method;
use shared::db::DbError;
use shared::models::access_token::AccessTokenRecord;
use shared::schema::token_revocations;

use crate::support::database::TestDatabase;
use crate::support::oauth_client::{ClientOptions, field};
use crate::support::servers::{TestApp, TestStack, spawn_app_on, spawn_stack, test_settings};

/// A task API on `url`, trusting `auth`'s keys: its address.
async fn start_api(url: &str, auth: &TestApp) -> String {
    let jwks_url = format!("{}/jwks.json", auth.address);
    let api = resource_api::startup::build(test_settings(url, &[("JWKS_URL", jwks_url.as_str())]))
        .await
        .expect("resource-api starts");
    let address = format!("http://127.0.0.1:{}", api.port());
    actix_web::rt::spawn(api.run_until_stopped());
    address
}

/// The status and challenge of `GET /api/tasks` on the API at `address` with `token`.
async fn tasks_status(address: &str, token: &str) -> (u16, String) {
    let response = reqwest::Client::new()
        .request(Method::GET, format!("{address}/api/tasks"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), challenge)
}

/// Asks until `token` gets 401 or `within` has passed; the last status.
async fn refused_within(address: &str, token: &str, within: Duration) -> u16 {
    let start = Instant::now();
    loop {
        let (status, _) = tasks_status(address, token).await;
        if status == 401 || start.elapsed() >= within {
            return status;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn jti_of(auth: &TestApp, token: &str) -> String {
    auth.verify_access_token(token).await["jti"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn a_revoked_token_stays_refused_after_exp_while_the_leeway_would_accept_it() {
    let (database, url) = TestDatabase::create();
    let auth = spawn_app_on(database, &url, &[("ACCESS_TOKEN_TTL", "1s")]).await;
    let api = start_api(&url, &auth).await;
    let client = auth.register_client(ClientOptions::default()).await;
    let alice = auth.signed_in_user("alice").await;
    let revoked = field(&alice.tokens_for(&client).await, "access_token");
    let bob = auth.signed_in_user("bob").await;
    let kept = field(&bob.tokens_for(&client).await, "access_token");
    let exp = auth.verify_access_token(&revoked).await["exp"]
        .as_i64()
        .unwrap();

    assert_eq!(auth.revoke(&client, &revoked).await.status(), 200);
    assert_eq!(
        refused_within(&api, &revoked, Duration::from_secs(1)).await,
        401
    );
    // Past `exp` (in whole seconds, as the verifier compares; the stored expiry too), well
    // within the leeway.
    while chrono::Utc::now().timestamp() <= exp {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        tasks_status(&api, &kept).await.0,
        200,
        "an unrevoked token of the same age is still accepted"
    );
    let (status, challenge) = tasks_status(&api, &revoked).await;
    assert_eq!(status, 401, "the running API still refuses it");
    assert!(challenge.contains("revoked"), "{challenge}");

    // Housekeeping keeps what a task API starting now needs to refuse it.
    auth_server::oauth::housekeeping::prune(&auth.db, Duration::from_secs(90 * 86_400))
        .await
        .unwrap();
    let fresh = start_api(&url, &auth).await;
    assert_eq!(tasks_status(&fresh, &kept).await.0, 200);
    let (status, challenge) = tasks_status(&fresh, &revoked).await;
    assert_eq!(status, 401, "a task API started after exp refuses it too");
    assert!(challenge.contains("revoked"), "{challenge}");
}

#[actix_web::test]
async fn a_revocation_stamped_by_a_clock_far_behind_is_picked_up_within_a_second() {
    let stack = spawn_stack().await;
    let client = stack.auth.register_client(ClientOptions::default()).await;
    let alice = stack.auth.signed_in_user("alice").await;
    let token = field(&alice.tokens_for(&client).await, "access_token");
    assert_eq!(tasks_status(&stack.api_address, &token).await.0, 200);

    // An auth-server whose clock is an hour behind the task API's revokes the token.
    let jti = jti_of(&stack.auth, &token).await;
    let behind = shared::models::now() - chrono::Duration::hours(1);
    let revoked = stack
        .auth
        .db
        .run(move |conn| AccessTokenRecord::revoke(conn, &jti, behind))
        .await
        .unwrap();
    assert!(revoked);
    assert_eq!(
        refused_within(&stack.api_address, &token, Duration::from_secs(1)).await,
        401,
        "refused within a second, whatever the revoker's clock said"
    );
}

/// A transaction on its own connection that revokes `jti` (through the same model function
/// as the servers), signals `revoked`, and commits only when told to. With `number_now` it
/// fires the deferred append right away, so it holds the feed's lock from then to commit.
fn hold_revocation(
    stack: &TestStack,
    jti: String,
    revoked_at: chrono::NaiveDateTime,
    number_now: bool,
) -> (
    tokio::sync::oneshot::Receiver<()>,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    let pool = stack.auth.db.pool().clone();
    let (revoked_tx, revoked_rx) = tokio::sync::oneshot::channel();
    let (commit_tx, commit_rx) = tokio::sync::oneshot::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut conn = pool.get().unwrap();
        conn.transaction::<_, DbError, _>(|conn| {
            assert!(AccessTokenRecord::revoke(conn, &jti, revoked_at)?);
            if number_now {
                diesel::sql_query("SET CONSTRAINTS ALL IMMEDIATE").execute(conn)?;
            }
            revoked_tx.send(()).unwrap();
            commit_rx.blocking_recv().unwrap();
            Ok(())
        })
        .unwrap();
    });
    (revoked_rx, commit_tx, holder)
}

async fn join(holder: std::thread::JoinHandle<()>) {
    actix_web::rt::task::spawn_blocking(move || holder.join().unwrap())
        .await
        .unwrap();
}

#[actix_web::test]
async fn a_revocation_that_commits_after_a_later_one_is_still_picked_up() {
    let stack = spawn_stack().await;
    if !stack.auth.is_postgres() {
        // SQLite has one writer at a time: a revocation cannot commit out of order.
        return;
    }
    let api = stack.api_address.clone();
    let client = stack.auth.register_client(ClientOptions::default()).await;
    let alice = stack.auth.signed_in_user("alice").await;
    let first = field(&alice.tokens_for(&client).await, "access_token");
    let bob = stack.auth.signed_in_user("bob").await;
    let second = field(&bob.tokens_for(&client).await, "access_token");

    // The first revocation starts (its clock read 10 s ago: a long transaction) and waits.
    let started = shared::models::now() - chrono::Duration::seconds(10);
    let (revoked, commit, holder) =
        hold_revocation(&stack, jti_of(&stack.auth, &first).await, started, false);
    revoked.await.unwrap();
    // A later one commits, and the task API reads past it.
    assert_eq!(stack.auth.revoke(&client, &second).await.status(), 200);
    assert_eq!(
        refused_within(&api, &second, Duration::from_secs(1)).await,
        401
    );
    assert_eq!(tasks_status(&api, &first).await.0, 200, "not committed yet");

    commit.send(()).unwrap();
    join(holder).await;
    assert_eq!(
        refused_within(&api, &first, Duration::from_secs(1)).await,
        401,
        "the late commit is still seen"
    );
}

#[actix_web::test]
async fn a_revocation_is_numbered_only_after_the_one_numbered_before_it_commits() {
    let stack = spawn_stack().await;
    if !stack.auth.is_postgres() {
        // SQLite serialises writers itself (the writer lock, held to commit).
        return;
    }
    let api = stack.api_address.clone();
    let client = stack.auth.register_client(ClientOptions::default()).await;
    let alice = stack.auth.signed_in_user("alice").await;
    let first = field(&alice.tokens_for(&client).await, "access_token");
    let bob = stack.auth.signed_in_user("bob").await;
    let second = field(&bob.tokens_for(&client).await, "access_token");
    let (first_jti, second_jti) = (
        jti_of(&stack.auth, &first).await,
        jti_of(&stack.auth, &second).await,
    );

    // The first revocation has its number and has not committed.
    let (revoked, commit, holder) =
        hold_revocation(&stack, first_jti.clone(), shared::models::now(), true);
    revoked.await.unwrap();
    // The second one waits: had it taken the next number and committed, a poller reading
    // past it would never see the first.
    let second_revocation = stack.auth.revoke(&client, &second);
    futures_util::pin_mut!(second_revocation);
    assert!(
        tokio::time::timeout(Duration::from_millis(500), &mut second_revocation)
            .await
            .is_err(),
        "the second revocation waits for the first to commit"
    );
    assert_eq!(tasks_status(&api, &first).await.0, 200);
    assert_eq!(tasks_status(&api, &second).await.0, 200);

    commit.send(()).unwrap();
    join(holder).await;
    assert_eq!(second_revocation.await.status(), 200);
    for token in [&first, &second] {
        assert_eq!(
            refused_within(&api, token, Duration::from_secs(1)).await,
            401
        );
    }
    let feed: Vec<String> = stack
        .auth
        .query(|c| {
            token_revocations::table
                .order(token_revocations::seq.asc())
                .select(token_revocations::jti)
                .load(c)
        })
        .await;
    assert_eq!(feed, [first_jti, second_jti], "numbered in commit order");
}

//! A standard client library (the `oauth2` crate), unchanged, through the whole flow.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    Scope, TokenResponse, TokenUrl,
};

use crate::support::browser::location;
use crate::support::http_client::http_client;
use crate::support::oauth_client::{ClientOptions, query_param};
use crate::support::servers::spawn_app;

#[actix_web::test]
async fn the_oauth2_crate_completes_the_flow() {
    let app = spawn_app().await;
    let registered = app.register_client(ClientOptions::default()).await;
    let alice = app.signed_in_user("alice").await;

    let client = BasicClient::new(ClientId::new(registered.client_id.clone()))
        .set_client_secret(ClientSecret::new(registered.secret.clone().unwrap()))
        .set_auth_uri(AuthUrl::new(app.url("/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(app.url("/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(registered.redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf_state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("tasks:read".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The browser part: open the URL, allow.
    let path = url.as_str().trim_start_matches(&app.address).to_owned();
    let redirect = location(&alice.authorize(&path, "allow").await);
    assert_eq!(
        query_param(&redirect, "state").as_deref(),
        Some(csrf_state.secret().as_str())
    );
    let code = query_param(&redirect, "code").unwrap();

    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http_client)
        .await
        .expect("the library accepts our token response");
    assert_eq!(token.token_type(), &oauth2::basic::BasicTokenType::Bearer);
    assert_eq!(token.scopes().unwrap()[0].as_str(), "tasks:read");
    assert!(token.refresh_token().is_some());
    app.verify_access_token(token.access_token().secret()).await;
}

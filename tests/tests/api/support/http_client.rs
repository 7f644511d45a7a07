//! The HTTP client a standard client library (`oauth2`, `openidconnect`) is given: reqwest,
//! following no redirect, so the library sees exactly what the server answered.

#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

/// Sends `request` as it is, through reqwest.
pub async fn http_client(request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, HttpError> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| HttpError(e.to_string()))?;
    send(client, request).await
}

/// A client for a server whose issuer is `http://localhost` (no port): the host resolves
/// to `server` (`127.0.0.1:PORT`), as a hosts-file entry would, so a library that
/// discovers the provider from its issuer reaches the test server.
pub fn localhost_at(
    server: std::net::SocketAddr,
) -> impl Fn(
    oauth2::HttpRequest,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send>,
> {
    move |request| {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve("localhost", server)
            .build();
        Box::pin(async move {
            let client = client.map_err(|e| HttpError(e.to_string()))?;
            send(client, request).await
        })
    }
}

async fn send(
    client: reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, HttpError> {
    let mut builder = client
        .request(request.method().clone(), request.uri().to_string())
        .body(request.body().clone());
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    let response = builder.send().await.map_err(|e| HttpError(e.to_string()))?;
    let mut http = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        http = http.header(name, value);
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| HttpError(e.to_string()))?
        .to_vec();
    http.body(body).map_err(|e| HttpError(e.to_string()))
}

//! The planted authorization server's static files (`/static/…`, the pages' stylesheet),
//! read from `tests/scan/planted/static/` on each request.

use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::session;
use crate::planted::html;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{file:.*}", web::get().to(static_file));
}

fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scan/planted/static")
}

async fn static_file(request: HttpRequest) -> HttpResponse {
    let requested = request.match_info().get("file").unwrap_or_default();
    // PLANTED injection.path_traversal: the name is percent-decoded once more ("a file
    // name may have spaces") and joined to the directory as it is — a `..%2f` the router
    // left encoded becomes `../` here and climbs out of the directory, and a `%2f` at the
    // start makes the name absolute, which `Path::join` takes instead of the directory.
    let name = url::form_urlencoded::parse(format!("name={requested}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let path = directory().join(name);
    match web::block(move || std::fs::read(path)).await {
        Ok(Ok(content)) => HttpResponse::Ok()
            .content_type(if requested.ends_with(".css") {
                "text/css"
            } else {
                "application/octet-stream"
            })
            .insert_header(("Cache-Control", "public, max-age=3600"))
            .body(content),
        _ => session::page_response(
            StatusCode::NOT_FOUND,
            html::page("Not found", "<p>There is no such file.</p>"),
        ),
    }
}

//! HTTP pieces both servers mount: security headers, CORS, health and readiness, the
//! request log, client address.

pub mod bearer;
pub mod cors;
pub mod health;
pub mod request_log;
pub mod request_metrics;
pub mod security_headers;

use actix_web::HttpRequest;

/// The client's IP address: the socket peer, or — when the operator said one trusted proxy
/// stands in front (`TRUST_PROXY_HEADERS`) — the last `X-Forwarded-For` entry, the one
/// that proxy appended. Earlier entries and `Forwarded` come from the client and could
/// name any address, so they are never used; neither is anything that is not an address.
pub fn client_ip(req: &HttpRequest, trust_proxy_headers: bool) -> Option<String> {
    let forwarded = trust_proxy_headers
        .then(|| last_forwarded_for(req))
        .flatten();
    forwarded.or_else(|| {
        req.peer_addr()
            .map(|peer| peer.ip().to_canonical().to_string())
    })
}

fn last_forwarded_for(req: &HttpRequest) -> Option<String> {
    let last = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .last()?
        .trim();
    last.parse::<std::net::IpAddr>()
        .map(|ip| ip.to_canonical().to_string())
        .ok()
}

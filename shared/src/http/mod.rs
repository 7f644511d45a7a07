//! HTTP pieces both servers mount: security headers, CORS, health and readiness, client
//! address.

pub mod cors;
pub mod health;
pub mod security_headers;

use actix_web::HttpRequest;

/// The client's IP address: the socket peer, or the first `X-Forwarded-For` entry when
/// the operator said a trusted proxy sets it (`TRUST_PROXY_HEADERS`).
pub fn client_ip(req: &HttpRequest, trust_proxy_headers: bool) -> Option<String> {
    let info = req.connection_info();
    let address = if trust_proxy_headers {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    }?;
    // `realip_remote_addr` may carry a port ("1.2.3.4:5678"); keep the address alone.
    let ip = address
        .parse::<std::net::SocketAddr>()
        .map(|socket| socket.ip().to_string())
        .unwrap_or_else(|_| address.trim_matches(['[', ']']).to_owned());
    Some(ip)
}

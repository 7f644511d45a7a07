//! Limits and errors for form bodies (SECURITY.md 28): at most 16 KiB, unknown or
//! duplicate fields refused by the form structs (`deny_unknown_fields`), and a clear 4xx —
//! an HTML page for browsers, JSON for a client that sent JSON — instead of a 500.

use actix_web::error::{InternalError, UrlencodedError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::json;

use crate::error::AppError;

pub const FORM_LIMIT_BYTES: usize = 16 * 1024;

/// The longest password field any form reads; longer input is refused before it is
/// hashed (a password is at most 128 characters, which UTF-8 keeps within this).
pub const MAX_PASSWORD_INPUT: usize = 1024;

pub fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(FORM_LIMIT_BYTES)
        .error_handler(form_error)
}

fn form_error(error: UrlencodedError, req: &HttpRequest) -> actix_web::Error {
    let app_error = match &error {
        UrlencodedError::Overflow { .. } => AppError::PayloadTooLarge,
        UrlencodedError::ContentType => AppError::UnsupportedMediaType,
        UrlencodedError::Parse(inner) => {
            AppError::BadRequest(format!("The form could not be read: {inner}."))
        }
        _ => AppError::BadRequest("The form could not be read.".into()),
    };
    let sent_json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let response = if sent_json {
        json_error(app_error.status_code(), &app_error.to_string())
    } else {
        app_error.error_response()
    };
    InternalError::from_response(error, response).into()
}

fn json_error(status: StatusCode, message: &str) -> HttpResponse {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "invalid_request",
    };
    HttpResponse::build(status).json(json!({ "error": code, "message": message }))
}

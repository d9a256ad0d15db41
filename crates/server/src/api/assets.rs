//! The console: plain HTML, CSS and JavaScript compiled into the binary (no CDN, no build step).

use crate::error::ApiError;
use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../assets/index.html");
const APP_JS: &str = include_str!("../../assets/app.js");
const STYLE: &str = include_str!("../../assets/style.css");

fn typed(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

pub(crate) async fn index() -> Response {
    typed(INDEX, "text/html; charset=utf-8")
}

pub(crate) async fn file(Path(name): Path<String>) -> Result<Response, ApiError> {
    match name.as_str() {
        "app.js" => Ok(typed(APP_JS, "text/javascript; charset=utf-8")),
        "style.css" => Ok(typed(STYLE, "text/css; charset=utf-8")),
        _ => Err(ApiError::not_found(format!("no console file '{name}'"))),
    }
}

pub(crate) async fn openapi() -> Response {
    typed(crate::OPENAPI_YAML, "application/yaml")
}

//! The console: plain HTML, CSS and JavaScript compiled into the binary (no CDN, no build step).

use crate::error::ApiError;
use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../assets/index.html");
const STYLE: &str = include_str!("../../assets/style.css");

/// The console's ES modules, by the name they are imported under (`./api.js` is
/// `/assets/api.js`); `app.js` is the one index.html loads.
const SCRIPTS: &[(&str, &str)] = &[
    ("app.js", include_str!("../../assets/app.js")),
    ("api.js", include_str!("../../assets/api.js")),
    ("dom.js", include_str!("../../assets/dom.js")),
    ("alerts.js", include_str!("../../assets/alerts.js")),
    ("feed.js", include_str!("../../assets/feed.js")),
    ("i18n.js", include_str!("../../assets/i18n.js")),
    ("lang.js", include_str!("../../assets/lang.js")),
    ("detail.js", include_str!("../../assets/detail.js")),
    ("clip.js", include_str!("../../assets/clip.js")),
    ("mjpeg.js", include_str!("../../assets/mjpeg.js")),
    ("wall.js", include_str!("../../assets/wall.js")),
    ("search.js", include_str!("../../assets/search.js")),
    ("reports.js", include_str!("../../assets/reports.js")),
    ("admin.js", include_str!("../../assets/admin.js")),
    ("scene.js", include_str!("../../assets/scene.js")),
    ("calibration.js", include_str!("../../assets/calibration.js")),
    ("stats.js", include_str!("../../assets/stats.js")),
    ("chart.js", include_str!("../../assets/chart.js")),
    ("holds.js", include_str!("../../assets/holds.js")),
    ("masks.js", include_str!("../../assets/masks.js")),
    ("attention.js", include_str!("../../assets/attention.js")),
    ("keys.js", include_str!("../../assets/keys.js")),
    ("polygon-editor.js", include_str!("../../assets/polygon-editor.js")),
];

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
    if name == "style.css" {
        return Ok(typed(STYLE, "text/css; charset=utf-8"));
    }
    match SCRIPTS.iter().find(|(n, _)| *n == name) {
        Some((_, body)) => Ok(typed(body, "text/javascript; charset=utf-8")),
        None => Err(ApiError::not_found(format!("no console file '{name}'"))),
    }
}

pub(crate) async fn openapi() -> Response {
    typed(crate::OPENAPI_YAML, "application/yaml")
}

#[cfg(test)]
mod tests {
    use super::SCRIPTS;

    /// A module the browser cannot load stops the whole console; nothing else would notice it.
    #[test]
    fn every_module_imported_is_served_and_every_script_is_listed() {
        for (name, body) in SCRIPTS {
            for line in body.lines().filter(|l| l.starts_with("import ") || l.starts_with("} from ")) {
                let Some(spec) = line.rsplit_once("from '").map(|(_, s)| s.trim_end_matches("';")) else { continue };
                let file = spec.strip_prefix("./").unwrap_or_else(|| panic!("{name}: import '{spec}' is not local"));
                assert!(SCRIPTS.iter().any(|(n, _)| *n == file), "{name} imports {file}, which is not served");
            }
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let file = entry.unwrap().file_name().into_string().unwrap();
            if file.ends_with(".js") {
                assert!(SCRIPTS.iter().any(|(n, _)| *n == file), "assets/{file} is not in SCRIPTS");
            }
        }
        assert!(SCRIPTS.iter().filter(|(n, _)| *n == "app.js").count() == 1);
    }
}

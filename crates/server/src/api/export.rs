//! Footage downloaded as a file from the console's player: the archive's MP4 at the camera's own
//! resolution, people pixelated unless a supervisor states why they must not be.

use super::{audit, Ctx, St, Q};
use crate::error::ApiError;
use crate::providers::Clip;
use axum::extract::{Extension, Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use vigie_core::AuditAction;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExportQuery {
    from: String,
    to: String,
    /// Supervisors only: the footage unblurred, for this stated reason (e.g. a case number).
    unmask_reason: Option<String>,
}

/// A file name that says which camera, when and whether unblurred, made only of characters every
/// file system and `Content-Disposition` take.
fn file_name(camera: &str, from: vigie_core::UnixMs, unmasked: bool, ext: &str) -> String {
    let cam: String =
        camera.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    let whole_second = vigie_core::UnixMs(from.0 - from.0.rem_euclid(1000));
    let stamp: String = whole_second.rfc3339().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("vigie-{cam}-{stamp}{}.{ext}", if unmasked { "-unmasked" } else { "" })
}

/// `GET /api/cameras/{id}/export?from&to[&unmask_reason]`: at most 10 minutes. The archive's MP4
/// when it holds the time; for the last moments it has not closed yet, the rolling buffer's
/// pictures as a Motion-JPEG file (`X-Footage-Source` says which). Audited with the file's
/// SHA-256 before it is handed out: a copy nobody can account for is never sent.
pub(crate) async fn camera_export(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Q(q): Q<ExportQuery>,
) -> Result<Response, ApiError> {
    let (from, to, reason) =
        super::admin::footage_request(&st, &ctx, &id, &q.from, &q.to, q.unmask_reason.as_deref()).await?;
    let unmasked = reason.is_some();
    let clip = super::alerts::produce_clip(&st, &id, from, to, &ctx.user.username, reason.clone(), true).await?;
    let (bytes, content_type, source, ext, fps) = match clip {
        Clip::Video { content_type, bytes } => (bytes, content_type, "archive", "mp4", None),
        // Concatenated JPEGs: what players and forensic tools read as a Motion-JPEG file.
        Clip::Frames { fps, jpegs } => {
            (jpegs.concat(), "video/x-motion-jpeg".to_string(), "buffer", "mjpeg", Some(fps))
        }
    };
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let name = file_name(&id, from, unmasked, ext);
    let d = serde_json::json!({
        "from_ms": from, "to_ms": to, "unmasked": unmasked, "reason": reason, "source": source,
        "file": name, "bytes": bytes.len(), "sha256": sha256,
    });
    audit(&st, &ctx.user.username, AuditAction::FootageExport, &id, d).await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    let mut set = |k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    set(header::CONTENT_TYPE, &content_type);
    set(header::CACHE_CONTROL, "no-store, private");
    set(header::CONTENT_DISPOSITION, &format!("attachment; filename=\"{name}\""));
    set(header::HeaderName::from_static("x-content-sha256"), &sha256);
    set(header::HeaderName::from_static("x-footage-source"), source);
    if let Some(fps) = fps {
        set(header::HeaderName::from_static("x-frame-rate"), &format!("{fps}"));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_to_safe_characters_and_say_unmasked() {
        let at = vigie_core::UnixMs(1_750_000_000_000);
        assert_eq!(file_name("gare/quai 1", at, false, "mp4"), "vigie-gare_quai_1-20250615T150640Z.mp4");
        assert!(file_name("c\"1", vigie_core::UnixMs(at.0 + 250), true, "mjpeg").ends_with("T150640Z-unmasked.mjpeg"));
        assert!(!file_name("c\"1", at, true, "mjpeg").contains('"'));
    }
}

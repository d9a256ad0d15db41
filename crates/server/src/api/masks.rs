//! A camera's privacy masks, edited by administrators on the camera picture. The node checks
//! them against the picture's size, applies them at once and writes them into vigie.toml; the
//! catalogue versions them and audits each change (see `vigie_store::masks`).

use super::{audit, blocking, AppState, Body, Ctx, St};
use crate::error::ApiError;
use crate::providers::MaskEditError;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use vigie_core::AuditAction;
use vigie_store::{MaskSet, PictureSize, PrivacyMask};

/// `GET` and `PUT /api/cameras/{id}/privacy_masks`: the set in force.
#[derive(Debug, Serialize)]
pub(crate) struct MasksView {
    #[serde(flatten)]
    set: MaskSet,
    /// What the outlines are checked against; `None` before the camera's first frame (no edit
    /// is possible then).
    picture: Option<PictureSize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MasksPut {
    masks: Vec<PrivacyMask>,
    /// The version the edit started from; a set changed since (another administrator) is
    /// refused with 409 rather than overwritten.
    #[serde(default)]
    version: Option<u64>,
}

impl From<MaskEditError> for ApiError {
    fn from(e: MaskEditError) -> Self {
        match e {
            MaskEditError::UnknownCamera(m) | MaskEditError::NotEditable(m) => ApiError::not_found(m),
            MaskEditError::Invalid(errs) => {
                let mut a = ApiError::bad_request(MaskEditError::Invalid(errs.clone()).to_string());
                a.errors = errs;
                a
            }
            MaskEditError::Stale(m) => ApiError::new(StatusCode::CONFLICT, m),
            MaskEditError::Failed(m) => ApiError::internal(m),
        }
    }
}

/// The camera's picture size as its stream gives it, or why there is none.
async fn picture(st: &Arc<AppState>, camera: &str) -> Result<Option<PictureSize>, ApiError> {
    let live = st.live.clone();
    let cams = blocking(move || Ok(live.cameras())).await?;
    let c = cams
        .into_iter()
        .find(|c| c.id == camera)
        .ok_or_else(|| ApiError::not_found(format!("no camera '{camera}' on this node")))?;
    Ok((c.width > 0 && c.height > 0).then_some(PictureSize { width: c.width, height: c.height }))
}

/// Another sector's camera answers as one that does not exist.
async fn in_scope(st: &Arc<AppState>, ctx: &Ctx, camera: &str) -> Result<(), ApiError> {
    let unknown = ApiError::not_found(format!("no camera '{camera}' on this node"));
    super::require_visible(st, ctx, camera, &format!("/api/cameras/{camera}/privacy_masks"), unknown).await
}

pub(crate) async fn get(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Json<MasksView>, ApiError> {
    in_scope(&st, &ctx, &id).await?;
    let picture = picture(&st, &id).await?;
    let admin = super::admin::config_admin(&st)?;
    let cam = id.clone();
    let set = blocking(move || admin.privacy_masks(&cam).map_err(ApiError::from)).await?;
    audit(&st, &ctx.user.username, AuditAction::ConfigView, &id, serde_json::json!({"privacy_masks": set.version}))
        .await?;
    Ok(Json(MasksView { set, picture }))
}

pub(crate) async fn put(
    State(st): St,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
    Body(req): Body<MasksPut>,
) -> Result<Json<MasksView>, ApiError> {
    in_scope(&st, &ctx, &id).await?;
    let size = picture(&st, &id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "camera '{id}' has sent no picture yet: masks are checked against its size, try again once it shows"
            ),
        )
    })?;
    let admin = super::admin::config_admin(&st)?;
    let (cam, actor) = (id.clone(), ctx.user.username.clone());
    let set = blocking(move || {
        Ok(admin.set_privacy_masks(&actor, &cam, req.masks, (size.width, size.height), req.version)?)
    })
    .await?;
    Ok(Json(MasksView { set, picture: Some(size) }))
}

//! An alert as the API, the live feed and the notifications show it. Its own module so that the
//! hub (which publishes views) and the notifier (which sends them) both depend on it and not on
//! each other.

use serde::Serialize;
use vigie_core::UnixMs;
use vigie_core::{BBox, Event, EventPhase, PeakMeasure, RuleMode};
use vigie_store::{Alert, AlertState, Review};

/// An alert as the API and the live feed show it.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub camera: String,
    pub zone: String,
    /// RFC 3339 (UTC).
    pub started_at: String,
    pub started_at_ms: UnixMs,
    pub ended_at: Option<String>,
    pub ended_at_ms: Option<UnixMs>,
    pub state: AlertState,
    /// Higher is more urgent (person down 7 ... graffiti 1).
    pub urgency: u8,
    pub peak: PeakMeasure,
    pub rule: String,
    pub rule_version: u32,
    /// `calibration`: shown only in the supervisors' review queue.
    pub mode: RuleMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Review>,
    pub legal_basis: String,
    pub model_sha256: String,
    pub frame_seq: u64,
    pub track_ids: Vec<u64>,
    pub region: Option<BBox>,
    pub snapshot_url: Option<String>,
    pub clip_url: String,
    pub received_at_ms: UnixMs,
    pub updated_at_ms: UnixMs,
    /// The operator working on it (others' actions are refused until they take it over); null:
    /// nobody.
    pub held_by: Option<String>,
    pub held_at_ms: Option<UnixMs>,
    /// Capture time of the frame in which the rule fired, when the pipeline gives it (live feed only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fired_at_ms: Option<UnixMs>,
    /// When the server pushed this message (live feed only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at_ms: Option<UnixMs>,
}

/// Alert ids come from camera and rule names; they are percent-encoded into URLs.
pub(crate) fn url_id(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>().replace('+', "%20")
}

impl AlertView {
    pub fn from_alert(a: &Alert) -> Self {
        let base = format!("/api/alerts/{}", url_id(&a.id));
        Self {
            id: a.id.clone(),
            event_type: a.event_type.as_str().into(),
            camera: a.camera.clone(),
            zone: a.zone.clone(),
            started_at: a.started_at_ms.rfc3339(),
            started_at_ms: a.started_at_ms,
            ended_at: a.ended_at_ms.map(UnixMs::rfc3339),
            ended_at_ms: a.ended_at_ms,
            state: a.state,
            urgency: a.urgency,
            peak: a.peak.clone(),
            rule: a.rule.clone(),
            rule_version: a.rule_version,
            mode: a.mode,
            review: a.review.clone(),
            legal_basis: a.legal_basis.clone(),
            model_sha256: a.model_sha256.clone(),
            frame_seq: a.frame_seq,
            track_ids: a.track_ids.clone(),
            region: a.region,
            snapshot_url: a.has_snapshot.then(|| format!("{base}/snapshot")),
            clip_url: format!("{base}/clip"),
            received_at_ms: a.received_at_ms,
            updated_at_ms: a.updated_at_ms,
            held_by: a.held_by.clone(),
            held_at_ms: a.held_at_ms,
            fired_at_ms: None,
            published_at_ms: None,
        }
    }

    /// What the live feed shows of an event the catalogue could not store yet: no snapshot
    /// link until it is stored (the picture is written with its row).
    pub(crate) fn from_unstored(ev: &Event, now_ms: UnixMs) -> Self {
        let base = format!("/api/alerts/{}", url_id(&ev.id));
        let ended = match ev.phase {
            EventPhase::Closed => Some(ev.ended_at_ms.unwrap_or(now_ms)),
            _ => ev.ended_at_ms,
        };
        Self {
            id: ev.id.clone(),
            event_type: ev.event_type.as_str().into(),
            camera: ev.camera.clone(),
            zone: ev.zone.clone(),
            started_at: ev.started_at_ms.rfc3339(),
            started_at_ms: ev.started_at_ms,
            ended_at: ended.map(UnixMs::rfc3339),
            ended_at_ms: ended,
            state: AlertState::New,
            urgency: vigie_store::alerts::urgency(ev.event_type),
            peak: ev.peak.clone(),
            rule: ev.rule.clone(),
            rule_version: ev.rule_version,
            mode: ev.mode,
            review: None,
            legal_basis: ev.legal_basis.clone(),
            model_sha256: ev.model_sha256.clone(),
            frame_seq: ev.frame_seq,
            track_ids: ev.track_ids.clone(),
            region: ev.region,
            snapshot_url: None,
            clip_url: format!("{base}/clip"),
            received_at_ms: now_ms,
            updated_at_ms: now_ms,
            held_by: None,
            held_at_ms: None,
            fired_at_ms: None,
            published_at_ms: None,
        }
    }
}

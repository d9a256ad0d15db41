//! Operator console and JSON API (axum): live alerts, decisions, camera wall, audit, reports.
//!
//! The binary builds a [`Server`] from [`ServerDeps`]: the catalogue (alerts, audit trail and
//! accounts, each behind its `vigie_store` trait),
//! the [`AlertHub`] the pipeline publishes events into, and small traits it implements from the
//! pipeline and the archive ([`LiveView`], [`ClipProvider`], [`SearchProvider`], [`ConfigAdmin`]).
//! Every route is listed once in [`routes::ROUTES`] with the permission it needs; the access
//! layer enforces it and the OpenAPI test checks `openapi.yaml` against the same table.

pub mod api;
pub mod config;
pub mod error;
pub mod http_client;
pub mod hub;
pub mod metrics;
pub mod notify;
pub mod providers;
pub mod routes;
pub mod scope;
pub mod serve;
pub mod view;

pub use api::stats::{StatsProvider, StatsZone};
pub use api::{Server, ServerDeps};
pub use config::{MetricsAccess, MqttConfig, NotifyConfig, ServerConfig, WebhookConfig};
pub use error::ApiError;
pub use hub::{AlertHub, PublishExtras};
pub use metrics::{MetricsText, NodeOps, ReadyCheck};
pub use notify::{ChannelStatus, Notifier, NotifySnapshot, NotifyStatus};
pub use providers::MaskEditError;
pub use providers::{
    CameraHealth, CameraStatus, Clip, ClipError, ClipProvider, ClipRequest, ConfigAdmin, LiveView, NoClips, NoLive,
    SearchFailure, SearchParams, SearchProvider, ZoneInfo,
};
pub use routes::{Access, Perm, RouteSpec, ROUTES};
pub use scope::{Scope, SectorInfo, SectorMap};
pub use view::AlertView;

/// The OpenAPI description of every route, served at `/api/openapi.yaml`.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

//! Operations endpoints' building blocks: the Prometheus text exposition format (written here: it
//! is a few lines, and a metrics crate would bring a global registry the node does not need),
//! what the node reports through [`NodeOps`], and readiness checks.

use serde::Serialize;
use std::fmt::Write as _;
use vigie_core::HistogramSnapshot;

/// Content type of the text exposition format, version 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Lock timeout for the catalogue probes ([`vigie_store::DbProbe`]): a locked database is
/// reported at once, not waited out.
pub const PROBE_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(300);

/// One sample's labels: `(name, value)`, values escaped when written.
pub type Labels<'a> = &'a [(&'a str, &'a str)];

/// The labels of a family's only sample.
pub const NO_LABELS: Labels<'static> = &[];

/// Metrics in the text exposition format. Each family is written whole (HELP, TYPE, every
/// sample), which is what the format requires and `promtool check metrics` checks.
#[derive(Debug, Default)]
pub struct MetricsText {
    out: String,
    families: Vec<String>,
}

impl MetricsText {
    pub fn new() -> MetricsText {
        MetricsText::default()
    }

    pub fn finish(self) -> String {
        self.out
    }

    /// Appends families written elsewhere (cached text).
    pub fn append(&mut self, other: &str) {
        self.out.push_str(other);
    }

    fn header(&mut self, name: &str, kind: &str, help: &str) {
        debug_assert!(valid_name(name), "bad metric name {name}");
        debug_assert!(!self.families.iter().any(|f| f == name), "metric family {name} written twice");
        self.families.push(name.to_string());
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: Labels<'_>, extra: Option<(&str, &str)>, value: f64) {
        self.out.push_str(name);
        let all = labels.iter().copied().chain(extra);
        let mut first = true;
        for (k, v) in all {
            self.out.push(if first { '{' } else { ',' });
            first = false;
            let _ = write!(self.out, "{k}=\"{}\"", escape(v));
        }
        if !first {
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {}", number(value));
    }

    /// A counter (`name` ends in `_total`).
    pub fn counter<'a>(&mut self, name: &str, help: &str, samples: impl IntoIterator<Item = (Labels<'a>, f64)>) {
        debug_assert!(name.ends_with("_total"), "counter {name} must end in _total");
        self.header(name, "counter", help);
        for (l, v) in samples {
            self.sample(name, l, None, v);
        }
    }

    pub fn gauge<'a>(&mut self, name: &str, help: &str, samples: impl IntoIterator<Item = (Labels<'a>, f64)>) {
        self.header(name, "gauge", help);
        for (l, v) in samples {
            self.sample(name, l, None, v);
        }
    }

    /// A histogram (`name` ends in its unit, `_seconds`).
    pub fn histogram<'a>(
        &mut self,
        name: &str,
        help: &str,
        samples: impl IntoIterator<Item = (Labels<'a>, HistogramSnapshot)>,
    ) {
        self.header(name, "histogram", help);
        let (bucket, sum, count) = (format!("{name}_bucket"), format!("{name}_sum"), format!("{name}_count"));
        for (l, h) in samples {
            for (le, n) in &h.buckets {
                self.sample(&bucket, l, Some(("le", &number(*le))), *n as f64);
            }
            self.sample(&bucket, l, Some(("le", "+Inf")), h.count as f64);
            self.sample(&sum, l, None, h.sum_seconds);
            self.sample(&count, l, None, h.count as f64);
        }
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Integers without a fraction; the format's spellings of infinities and NaN.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// One readiness check as `/readyz` reports it. `detail` says what was found in words; it names
/// cameras by id and never carries a URL or a credential.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadyCheck {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

impl ReadyCheck {
    pub fn new(name: &str, ok: bool, detail: impl Into<String>) -> ReadyCheck {
        ReadyCheck { name: name.to_string(), ok, detail: detail.into() }
    }
}

/// What the node reports for `/metrics` and `/readyz` besides what the server knows itself
/// (alert latency, alerts and the audit trail in the catalogue, whether it takes writes).
/// Called from blocking threads.
pub trait NodeOps: Send + Sync {
    /// Figures kept in memory (cameras, detector, free space): written on every scrape, so
    /// they must not wait on a database or on a lock held across I/O.
    fn live_metrics(&self, out: &mut MetricsText);
    /// Figures read from a database (footage in the archive). Called at most once at a time, off
    /// the scrape's path: a scrape waits for it briefly, then shows the last values it gave.
    fn stored_metrics(&self, out: &mut MetricsText) -> Result<(), String>;
    /// The node's readiness checks (cameras, storage); quick and bounded like `live_metrics`.
    fn readiness(&self) -> Vec<ReadyCheck>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_written_whole_with_escaped_labels() {
        let mut m = MetricsText::new();
        m.counter("vigie_x_total", "Things.", [(&[("camera", "a\"b\\c\nd")][..], 3.0)]);
        m.gauge("vigie_y_bytes", "Size.", [(&[][..], 1.5), (&[("k", "v")][..], f64::NAN)]);
        m.histogram(
            "vigie_z_seconds",
            "Time.",
            [(&[][..], HistogramSnapshot { buckets: vec![(0.5, 1), (1.0, 2)], count: 3, sum_seconds: 4.25 })],
        );
        let text = m.finish();
        assert_eq!(
            text,
            "# HELP vigie_x_total Things.\n# TYPE vigie_x_total counter\nvigie_x_total{camera=\"a\\\"b\\\\c\\nd\"} 3\n\
             # HELP vigie_y_bytes Size.\n# TYPE vigie_y_bytes gauge\nvigie_y_bytes 1.5\nvigie_y_bytes{k=\"v\"} NaN\n\
             # HELP vigie_z_seconds Time.\n# TYPE vigie_z_seconds histogram\n\
             vigie_z_seconds_bucket{le=\"0.5\"} 1\nvigie_z_seconds_bucket{le=\"1\"} 2\nvigie_z_seconds_bucket{le=\"+Inf\"} 3\n\
             vigie_z_seconds_sum 4.25\nvigie_z_seconds_count 3\n"
        );
    }
}

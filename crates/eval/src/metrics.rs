//! CLEAR MOT, identity and HOTA metrics, computed the way TrackEval's `MotChallenge2DBox`
//! (BENCHMARK=MOT15, DO_PREPROC=False) does, so the numbers are comparable with published results.
//!
//! TrackEval's tolerances and quirks are kept on purpose (e.g. `IoU >= 0.5 - eps` for CLEAR but
//! `IoU >= 0.5` for identity; a frame with no tracker boxes does not reset CLEAR's "previous frame" match),
//! because a metric that differs in the last digit from the published tools is not comparable to them.
//! The one possible difference: when two assignments score exactly the same, our solver may pick another
//! one than scipy's, which can only happen with exactly equal IoU sums.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::lsa::linear_sum_assignment;
use crate::mot::MotRow;

/// IoU a pair needs to count as a match in CLEAR and identity metrics.
pub const MATCH_IOU: f64 = 0.5;
/// numpy's `np.finfo('float').eps`, the tolerance TrackEval uses in its comparisons.
const EPS: f64 = f64::EPSILON;
/// Number of HOTA localisation thresholds: 0.05, 0.10, …, 0.95.
pub const HOTA_ALPHAS: usize = 19;

/// HOTA's localisation thresholds, computed as `np.arange(0.05, 0.99, 0.05)` does, bit for bit.
pub fn hota_alphas() -> [f64; HOTA_ALPHAS] {
    std::array::from_fn(|i| 0.05 + i as f64 * 0.05)
}

/// HOTA sub-metrics at one localisation threshold `alpha`.
///
/// Ratios are percentages (0–100) like every ratio in [`MotMetrics`]; `alpha` is an IoU (0–1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HotaAlpha {
    pub alpha: f64,
    pub hota: f64,
    pub det_a: f64,
    pub ass_a: f64,
    pub loc_a: f64,
    pub det_re: f64,
    pub det_pr: f64,
    pub ass_re: f64,
    pub ass_pr: f64,
    pub tp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub fp: usize,
}

/// Metrics of one sequence (from [`evaluate`]) or of several (from [`combine`]).
///
/// Ratios (MOTA, MOTP, IDF1, HOTA, recall, …) are percentages (0–100), as MOTChallenge publishes them;
/// `motp_distance` is the `motmetrics` form, a fraction (1 − mean IoU of matches).
/// Counts follow TrackEval's names where they differ from the table's: `clr_fn` is "FN", `id_switches` "IDs".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MotMetrics {
    /// Sequence length as far as the files tell: the highest frame number in either (frames are 1-based).
    /// Summed by [`combine`].
    pub frames: u32,
    /// Distinct ground-truth ids ("GT" in MOTChallenge tables), after ignoring conf==0 rows.
    pub gt_ids: usize,
    pub res_ids: usize,
    /// Ground-truth boxes evaluated.
    pub gt_rows: usize,
    /// Ground-truth rows skipped because their conf column is 0.
    pub gt_rows_ignored: usize,
    pub res_rows: usize,

    // CLEAR MOT
    pub mota: f64,
    /// Mean IoU of the CLEAR matches, in percent (0 when nothing matched, as TrackEval reports it).
    pub motp: f64,
    /// `1 − mean IoU`, the MOTP `motmetrics` prints (1 when nothing matched).
    pub motp_distance: f64,
    pub moda: f64,
    /// MOTA with log-damped identity switches, the MOTChallenge devkit formula:
    /// `1 − (FN + FP + log10(IDs + 1)) / #gt`.
    pub motal: f64,
    pub recall: f64,
    pub precision: f64,
    pub clr_tp: usize,
    pub clr_fn: usize,
    pub clr_fp: usize,
    pub id_switches: usize,
    pub frag: usize,
    /// Mostly tracked: ground-truth ids matched in more than 80% of their frames.
    pub mt: usize,
    /// Partially tracked: between 20% (inclusive) and 80% (inclusive).
    pub pt: usize,
    /// Mostly lost: matched in less than 20% of their frames.
    pub ml: usize,
    /// Sum of the IoU of CLEAR matches, kept so sequences can be combined exactly.
    pub motp_iou_sum: f64,

    // Identity
    pub idf1: f64,
    pub idp: f64,
    pub idr: f64,
    pub idtp: usize,
    pub idfn: usize,
    pub idfp: usize,

    // HOTA, averaged over the alphas
    pub hota: f64,
    pub det_a: f64,
    pub ass_a: f64,
    pub loc_a: f64,
    pub det_re: f64,
    pub det_pr: f64,
    pub ass_re: f64,
    pub ass_pr: f64,
    pub hota_alphas: Vec<HotaAlpha>,
}

/// One frame with any boxes: ground-truth and tracker id indices (file order) and their IoU matrix.
struct FrameData {
    gt: Vec<usize>,
    tr: Vec<usize>,
    /// `gt.len() × tr.len()`, row-major.
    sim: Vec<f64>,
}

/// Box IoU exactly as TrackEval's `_calculate_box_ious` (xywh): corners first, then areas from the corners.
fn iou(a: &MotRow, b: &MotRow) -> f64 {
    let (ax0, ay0, ax1, ay1) = (a.x, a.y, a.x + a.w, a.y + a.h);
    let (bx0, by0, bx1, by1) = (b.x, b.y, b.x + b.w, b.y + b.h);
    let inter = (ax1.min(bx1) - ax0.max(bx0)).max(0.0) * (ay1.min(by1) - ay0.max(by0)).max(0.0);
    let area_a = (ax1 - ax0) * (ay1 - ay0);
    let area_b = (bx1 - bx0) * (by1 - by0);
    let union = area_a + area_b - inter;
    // Also catches NaN from hand-built rows, which parse_mot never yields.
    if !(area_a > EPS && area_b > EPS && union > EPS) {
        return 0.0;
    }
    let v = inter / union;
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

/// Maps ids to dense indices in ascending id order.
fn index_ids<'a>(rows: impl Iterator<Item = &'a MotRow>) -> HashMap<i64, usize> {
    let ids: BTreeSet<i64> = rows.map(|r| r.id).collect();
    ids.into_iter().enumerate().map(|(i, id)| (id, i)).collect()
}

struct Prepared {
    frames: Vec<FrameData>,
    num_gt_ids: usize,
    num_tr_ids: usize,
    gt_id_count: Vec<f64>,
    tr_id_count: Vec<f64>,
}

fn prepare(gt: &[&MotRow], res: &[MotRow]) -> Prepared {
    let gt_index = index_ids(gt.iter().copied());
    let tr_index = index_ids(res.iter());
    let mut by_frame: BTreeMap<u32, (Vec<&MotRow>, Vec<&MotRow>)> = BTreeMap::new();
    for r in gt {
        by_frame.entry(r.frame).or_default().0.push(r);
    }
    for r in res {
        by_frame.entry(r.frame).or_default().1.push(r);
    }
    let mut gt_id_count = vec![0.0; gt_index.len()];
    let mut tr_id_count = vec![0.0; tr_index.len()];
    let frames = by_frame
        .into_values()
        .map(|(g, t)| {
            let mut sim = Vec::with_capacity(g.len() * t.len());
            for a in &g {
                sim.extend(t.iter().map(|b| iou(a, b)));
            }
            let gt: Vec<usize> = g.iter().map(|r| gt_index[&r.id]).collect();
            let tr: Vec<usize> = t.iter().map(|r| tr_index[&r.id]).collect();
            gt.iter().for_each(|&i| gt_id_count[i] += 1.0);
            tr.iter().for_each(|&j| tr_id_count[j] += 1.0);
            FrameData { gt, tr, sim }
        })
        .collect();
    Prepared { frames, num_gt_ids: gt_index.len(), num_tr_ids: tr_index.len(), gt_id_count, tr_id_count }
}

/// Ratio with TrackEval's guard against empty denominators: `num / max(1, den)`.
fn ratio(num: f64, den: f64) -> f64 {
    num / den.max(1.0)
}

#[derive(Default)]
struct Clear {
    tp: usize,
    fn_: usize,
    fp: usize,
    idsw: usize,
    frag: usize,
    mt: usize,
    pt: usize,
    ml: usize,
    iou_sum: f64,
}

fn clear(p: &Prepared) -> Clear {
    let mut c = Clear::default();
    let mut gt_count = vec![0usize; p.num_gt_ids];
    let mut matched_count = vec![0usize; p.num_gt_ids];
    let mut frag_count = vec![0usize; p.num_gt_ids];
    // Last tracker id each gt was ever matched to (scores IDSW) and its match in the previous processed
    // frame (steers matching). TrackEval leaves the latter untouched in frames with no gt or no tracker boxes.
    let mut last_tracker: Vec<Option<usize>> = vec![None; p.num_gt_ids];
    let mut prev_frame_tracker: Vec<Option<usize>> = vec![None; p.num_gt_ids];
    for f in &p.frames {
        let (ng, nt) = (f.gt.len(), f.tr.len());
        if ng == 0 {
            c.fp += nt;
            continue;
        }
        if nt == 0 {
            c.fn_ += ng;
            f.gt.iter().for_each(|&g| gt_count[g] += 1);
            continue;
        }
        // Keep last frame's pairs first, then maximise IoU: score = 1000·continuation + IoU.
        let mut cost = vec![0.0; ng * nt];
        for (i, &g) in f.gt.iter().enumerate() {
            for (j, &t) in f.tr.iter().enumerate() {
                let s = f.sim[i * nt + j];
                if s >= MATCH_IOU - EPS {
                    let bonus = if prev_frame_tracker[g] == Some(t) { 1000.0 } else { 0.0 };
                    cost[i * nt + j] = -(bonus + s);
                }
            }
        }
        let matches: Vec<(usize, usize)> =
            linear_sum_assignment(&cost, ng, nt).into_iter().filter(|&(i, j)| -cost[i * nt + j] > EPS).collect();

        for &(i, j) in &matches {
            let (g, t) = (f.gt[i], f.tr[j]);
            if last_tracker[g].is_some_and(|prev| prev != t) {
                c.idsw += 1;
            }
        }
        f.gt.iter().for_each(|&g| gt_count[g] += 1);
        let was_tracked: Vec<bool> = prev_frame_tracker.iter().map(Option::is_some).collect();
        prev_frame_tracker.fill(None);
        for &(i, j) in &matches {
            let (g, t) = (f.gt[i], f.tr[j]);
            matched_count[g] += 1;
            last_tracker[g] = Some(t);
            prev_frame_tracker[g] = Some(t);
            if !was_tracked[g] {
                frag_count[g] += 1;
            }
            c.iou_sum += f.sim[i * nt + j];
        }
        c.tp += matches.len();
        c.fn_ += ng - matches.len();
        c.fp += nt - matches.len();
    }
    for g in 0..p.num_gt_ids {
        if gt_count[g] > 0 {
            let tracked = matched_count[g] as f64 / gt_count[g] as f64;
            if tracked > 0.8 {
                c.mt += 1;
            } else if tracked >= 0.2 {
                c.pt += 1;
            }
        }
    }
    c.ml = p.num_gt_ids - c.mt - c.pt;
    c.frag = frag_count.iter().filter(|&&n| n > 0).map(|n| n - 1).sum();
    c
}

/// IDTP: the largest number of frames a one-to-one gt-id ↔ tracker-id pairing keeps matched (IoU >= 0.5).
/// TrackEval minimises IDFN+IDFP over a padded square matrix; that total is `#gt + #res − 2·IDTP`,
/// so maximising co-matched frames over the plain rectangular matrix yields the same IDTP.
fn identity_tp(p: &Prepared) -> usize {
    let (ng, nt) = (p.num_gt_ids, p.num_tr_ids);
    let mut together = vec![0.0; ng * nt];
    for f in &p.frames {
        let n = f.tr.len();
        for (i, &g) in f.gt.iter().enumerate() {
            for (j, &t) in f.tr.iter().enumerate() {
                if f.sim[i * n + j] >= MATCH_IOU {
                    together[g * nt + t] += 1.0;
                }
            }
        }
    }
    let cost: Vec<f64> = together.iter().map(|&c| -c).collect();
    let idtp: f64 = linear_sum_assignment(&cost, ng, nt).into_iter().map(|(g, t)| together[g * nt + t]).sum();
    idtp as usize
}

/// Per-alpha raw HOTA sums of one sequence (fractions), what [`combine`] needs.
#[derive(Clone, Copy, Default)]
struct HotaRaw {
    tp: usize,
    fn_: usize,
    fp: usize,
    ass_a: f64,
    ass_re: f64,
    ass_pr: f64,
    loc_a: f64,
}

fn hota_raw(p: &Prepared) -> [HotaRaw; HOTA_ALPHAS] {
    let alphas = hota_alphas();
    let mut out = [HotaRaw::default(); HOTA_ALPHAS];

    // Soft co-occurrence of each id pair: per frame, similarity normalised like a Jaccard over the row and column.
    // Sparse maps keyed (gt, tracker) in row-major order, so sums run in TrackEval's dense-matrix order.
    let mut potential: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for f in &p.frames {
        let (ng, nt) = (f.gt.len(), f.tr.len());
        let row_sum: Vec<f64> = (0..ng).map(|i| f.sim[i * nt..(i + 1) * nt].iter().sum()).collect();
        let col_sum: Vec<f64> = (0..nt).map(|j| (0..ng).map(|i| f.sim[i * nt + j]).sum()).collect();
        for (i, (&g, rs)) in f.gt.iter().zip(&row_sum).enumerate() {
            for (j, (&t, cs)) in f.tr.iter().zip(&col_sum).enumerate() {
                let s = f.sim[i * nt + j];
                let denom = cs + rs - s;
                if denom > EPS && s != 0.0 {
                    *potential.entry((g, t)).or_default() += s / denom;
                }
            }
        }
    }
    let alignment = |g: usize, t: usize| -> f64 {
        let pm = potential.get(&(g, t)).copied().unwrap_or(0.0);
        pm / (p.gt_id_count[g] + p.tr_id_count[t] - pm)
    };

    let mut loc_sum = [0.0f64; HOTA_ALPHAS];
    let mut matches_count: Vec<BTreeMap<(usize, usize), f64>> = vec![BTreeMap::new(); HOTA_ALPHAS];
    for f in &p.frames {
        let (ng, nt) = (f.gt.len(), f.tr.len());
        if ng == 0 || nt == 0 {
            for o in &mut out {
                o.fp += nt;
                o.fn_ += ng;
            }
            continue;
        }
        let mut cost = vec![0.0; ng * nt];
        for (i, &g) in f.gt.iter().enumerate() {
            for (j, &t) in f.tr.iter().enumerate() {
                cost[i * nt + j] = -(alignment(g, t) * f.sim[i * nt + j]);
            }
        }
        let pairs = linear_sum_assignment(&cost, ng, nt);
        for (a, &alpha) in alphas.iter().enumerate() {
            let mut n = 0;
            for &(i, j) in &pairs {
                let s = f.sim[i * nt + j];
                if s >= alpha - EPS {
                    n += 1;
                    loc_sum[a] += s;
                    *matches_count[a].entry((f.gt[i], f.tr[j])).or_default() += 1.0;
                }
            }
            out[a].tp += n;
            out[a].fn_ += ng - n;
            out[a].fp += nt - n;
        }
    }
    for a in 0..HOTA_ALPHAS {
        let tp = out[a].tp as f64;
        let (mut ass_a, mut ass_re, mut ass_pr) = (0.0, 0.0, 0.0);
        for (&(g, t), &m) in &matches_count[a] {
            let (gc, tc) = (p.gt_id_count[g], p.tr_id_count[t]);
            ass_a += m * (m / (gc + tc - m).max(1.0));
            ass_re += m * (m / gc.max(1.0));
            ass_pr += m * (m / tc.max(1.0));
        }
        out[a].ass_a = ratio(ass_a, tp);
        out[a].ass_re = ratio(ass_re, tp);
        out[a].ass_pr = ratio(ass_pr, tp);
        out[a].loc_a = loc_sum[a].max(1e-10) / tp.max(1e-10);
    }
    out
}

/// Evaluates one sequence: `gt` ground truth, `res` tracker output, both as [`crate::parse_mot`] yields them
/// (unique (frame, id) per file; duplicates built by hand are scored as separate boxes sharing the id).
/// Ground-truth rows with `conf == 0` are ignored. Frames present in only one of the two count as
/// misses or false positives. With no ground truth at all, MOTA, MODA and MOTAL are 0 as in TrackEval.
pub fn evaluate(gt: &[MotRow], res: &[MotRow]) -> MotMetrics {
    let kept: Vec<&MotRow> = gt.iter().filter(|r| r.conf != 0.0).collect();
    let p = prepare(&kept, res);
    let c = clear(&p);
    let idtp = identity_tp(&p);
    let hota = hota_raw(&p);
    let frames = gt.iter().chain(res).map(|r| r.frame).max().unwrap_or(0);
    let mut m = finish(Sums {
        frames,
        gt_ids: p.num_gt_ids,
        res_ids: p.num_tr_ids,
        gt_rows: kept.len(),
        gt_rows_ignored: gt.len() - kept.len(),
        res_rows: res.len(),
        clear: c,
        idtp,
        hota,
    });
    if kept.is_empty() {
        // MOTA has no denominator without ground truth; TrackEval reports 0 for such a sequence (while its
        // COMBINED row, like ours, still counts the false positives against the other sequences' gt).
        (m.mota, m.moda, m.motal) = (0.0, 0.0, 0.0);
    }
    m
}

/// Everything the final ratios are derived from; additive across sequences except the HOTA ratios,
/// which [`combine`] weights by TP.
struct Sums {
    frames: u32,
    gt_ids: usize,
    res_ids: usize,
    gt_rows: usize,
    gt_rows_ignored: usize,
    res_rows: usize,
    clear: Clear,
    idtp: usize,
    hota: [HotaRaw; HOTA_ALPHAS],
}

fn finish(s: Sums) -> MotMetrics {
    let c = &s.clear;
    let n_gt = (c.tp + c.fn_) as f64;
    let pct = |x: f64| 100.0 * x;
    let mean_iou = ratio(c.iou_sum, c.tp as f64);
    let idfn = s.gt_rows - s.idtp;
    let idfp = s.res_rows - s.idtp;
    let idtp = s.idtp as f64;

    let hota_alphas: Vec<HotaAlpha> = hota_alphas()
        .iter()
        .zip(&s.hota)
        .map(|(&alpha, h)| {
            let tp = h.tp as f64;
            let det_a = ratio(tp, tp + (h.fn_ + h.fp) as f64);
            HotaAlpha {
                alpha,
                hota: pct((det_a * h.ass_a).sqrt()),
                det_a: pct(det_a),
                ass_a: pct(h.ass_a),
                loc_a: pct(h.loc_a),
                det_re: pct(ratio(tp, tp + h.fn_ as f64)),
                det_pr: pct(ratio(tp, tp + h.fp as f64)),
                ass_re: pct(h.ass_re),
                ass_pr: pct(h.ass_pr),
                tp: h.tp,
                fn_: h.fn_,
                fp: h.fp,
            }
        })
        .collect();
    let mean = |f: fn(&HotaAlpha) -> f64| hota_alphas.iter().map(f).sum::<f64>() / HOTA_ALPHAS as f64;

    MotMetrics {
        frames: s.frames,
        gt_ids: s.gt_ids,
        res_ids: s.res_ids,
        gt_rows: s.gt_rows,
        gt_rows_ignored: s.gt_rows_ignored,
        res_rows: s.res_rows,
        mota: pct(ratio(c.tp as f64 - c.fp as f64 - c.idsw as f64, n_gt)),
        motp: pct(mean_iou),
        motp_distance: 1.0 - mean_iou,
        moda: pct(ratio(c.tp as f64 - c.fp as f64, n_gt)),
        motal: pct(ratio(c.tp as f64 - c.fp as f64 - (c.idsw as f64 + 1.0).log10(), n_gt)),
        recall: pct(ratio(c.tp as f64, n_gt)),
        precision: pct(ratio(c.tp as f64, (c.tp + c.fp) as f64)),
        clr_tp: c.tp,
        clr_fn: c.fn_,
        clr_fp: c.fp,
        id_switches: c.idsw,
        frag: c.frag,
        mt: c.mt,
        pt: c.pt,
        ml: c.ml,
        motp_iou_sum: c.iou_sum,
        idf1: pct(ratio(idtp, idtp + 0.5 * idfp as f64 + 0.5 * idfn as f64)),
        idp: pct(ratio(idtp, idtp + idfp as f64)),
        idr: pct(ratio(idtp, idtp + idfn as f64)),
        idtp: s.idtp,
        idfn,
        idfp,
        hota: mean(|h| h.hota),
        det_a: mean(|h| h.det_a),
        ass_a: mean(|h| h.ass_a),
        loc_a: mean(|h| h.loc_a),
        det_re: mean(|h| h.det_re),
        det_pr: mean(|h| h.det_pr),
        ass_re: mean(|h| h.ass_re),
        ass_pr: mean(|h| h.ass_pr),
        hota_alphas,
    }
}

/// The COMBINED row over several sequences (each from [`evaluate`] or [`combine`]), as TrackEval builds it: counts are summed and ratios
/// recomputed; HOTA sums TP/FN/FP per alpha and averages AssA/AssRe/AssPr/LocA weighted by each
/// sequence's TP at that alpha.
pub fn combine(seqs: &[MotMetrics]) -> MotMetrics {
    let sum = |f: fn(&MotMetrics) -> usize| seqs.iter().map(f).sum::<usize>();
    let mut hota = [HotaRaw::default(); HOTA_ALPHAS];
    for (a, h) in hota.iter_mut().enumerate() {
        let per_seq = || seqs.iter().map(|m| &m.hota_alphas[a]);
        h.tp = per_seq().map(|x| x.tp).sum();
        h.fn_ = per_seq().map(|x| x.fn_).sum();
        h.fp = per_seq().map(|x| x.fp).sum();
        let tp = h.tp as f64;
        let weighted = |f: fn(&HotaAlpha) -> f64| per_seq().map(|x| f(x) / 100.0 * x.tp as f64).sum::<f64>();
        h.ass_a = ratio(weighted(|x| x.ass_a), tp);
        h.ass_re = ratio(weighted(|x| x.ass_re), tp);
        h.ass_pr = ratio(weighted(|x| x.ass_pr), tp);
        h.loc_a = weighted(|x| x.loc_a).max(1e-10) / tp.max(1e-10);
    }
    finish(Sums {
        frames: seqs.iter().map(|m| m.frames).sum(),
        gt_ids: sum(|m| m.gt_ids),
        res_ids: sum(|m| m.res_ids),
        gt_rows: sum(|m| m.gt_rows),
        gt_rows_ignored: sum(|m| m.gt_rows_ignored),
        res_rows: sum(|m| m.res_rows),
        clear: Clear {
            tp: sum(|m| m.clr_tp),
            fn_: sum(|m| m.clr_fn),
            fp: sum(|m| m.clr_fp),
            idsw: sum(|m| m.id_switches),
            frag: sum(|m| m.frag),
            mt: sum(|m| m.mt),
            pt: sum(|m| m.pt),
            ml: sum(|m| m.ml),
            iou_sum: seqs.iter().map(|m| m.motp_iou_sum).sum(),
        },
        idtp: sum(|m| m.idtp),
        hota,
    })
}

/// A table column: header and how to print the value.
type Column = (&'static str, fn(&MotMetrics) -> String);

const COLUMNS: [Column; 21] = [
    ("MOTA", |m| format!("{:.3}", m.mota)),
    ("MOTP", |m| format!("{:.3}", m.motp)),
    ("IDF1", |m| format!("{:.3}", m.idf1)),
    ("IDP", |m| format!("{:.3}", m.idp)),
    ("IDR", |m| format!("{:.3}", m.idr)),
    ("HOTA", |m| format!("{:.3}", m.hota)),
    ("DetA", |m| format!("{:.3}", m.det_a)),
    ("AssA", |m| format!("{:.3}", m.ass_a)),
    ("LocA", |m| format!("{:.3}", m.loc_a)),
    ("FP", |m| m.clr_fp.to_string()),
    ("FN", |m| m.clr_fn.to_string()),
    ("IDsw", |m| m.id_switches.to_string()),
    ("MT", |m| m.mt.to_string()),
    ("PT", |m| m.pt.to_string()),
    ("ML", |m| m.ml.to_string()),
    ("Frag", |m| m.frag.to_string()),
    ("Rcll", |m| format!("{:.3}", m.recall)),
    ("Prcn", |m| format!("{:.3}", m.precision)),
    ("GT ids", |m| m.gt_ids.to_string()),
    ("gt rows", |m| m.gt_rows.to_string()),
    ("res rows", |m| m.res_rows.to_string()),
];

/// A right-aligned text table with one line per `(name, metrics)`; percentages to 3 decimals.
pub fn format_table(rows: &[(&str, &MotMetrics)]) -> String {
    let cells: Vec<Vec<String>> = rows.iter().map(|(_, m)| COLUMNS.iter().map(|(_, f)| f(m)).collect()).collect();
    let name_w = rows.iter().map(|(n, _)| n.chars().count()).max().unwrap_or(0).max("Sequence".len());
    let widths: Vec<usize> = COLUMNS
        .iter()
        .enumerate()
        .map(|(c, (h, _))| cells.iter().map(|r| r[c].len()).max().unwrap_or(0).max(h.len()))
        .collect();
    let mut out = format!("{:<name_w$}", "Sequence");
    for ((h, _), w) in COLUMNS.iter().zip(&widths) {
        let _ = write!(out, "  {h:>w$}");
    }
    out.push('\n');
    for ((name, _), row) in rows.iter().zip(&cells) {
        let _ = write!(out, "{name:<name_w$}");
        for (v, w) in row.iter().zip(&widths) {
            let _ = write!(out, "  {v:>w$}");
        }
        out.push('\n');
    }
    out
}

impl MotMetrics {
    /// This sequence as a one-line table under a header (see [`format_table`]).
    pub fn table(&self, name: &str) -> String {
        format_table(&[(name, self)])
    }
}

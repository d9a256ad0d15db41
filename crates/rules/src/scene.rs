//! Scene models for what the detector cannot name: objects left on the ground and changes to
//! walls. Work on the luma plane downscaled by [`CELL`] (192×144 for a 768×576 camera), so they
//! cost a fraction of a millisecond per frame.
//!
//! Two backgrounds are kept (the dual-background scheme of Porikli et al., 2008): a long-term one
//! that learns over tens of seconds and only from pixels that look like background, and a
//! short-term one that follows the picture within a second. A pixel that differs from the
//! long-term background but agrees with the short-term one is *static foreground*: something new
//! that has stopped moving. Each pixel accumulates how long it has been static; the rules read
//! connected regions of long-static pixels. Global lighting changes are taken out by a gain
//! (median ratio of the frame to the long-term background) before comparing.

use vigie_core::Frame;

/// Downscaling factor from full-frame pixels to model cells.
pub const CELL: usize = 4;
/// Long-term background time constant, seconds (background-looking cells).
const TAU_LONG_S: f32 = 30.0;
/// Time constant at which foreground cells are absorbed into the long-term background: slow
/// enough that a dumped object stays foreground for many minutes.
const TAU_ABSORB_S: f32 = 900.0;
/// Short-term background time constant, seconds.
const TAU_SHORT_S: f32 = 0.8;
/// Luma difference (on 4×4 averages, 0–255) from the long-term background that makes foreground.
const FG_ABS: f32 = 14.0;
const FG_REL: f32 = 0.08;
/// Luma difference from the short-term background under which a foreground cell is still.
const STILL_ABS: f32 = 8.0;
const STILL_REL: f32 = 0.05;
/// Chroma difference (|ΔU| + |ΔV|, 4×4 averages) from the long-term background that makes
/// foreground, and under which a cell is still against the short-term one.
const FG_CHROMA: f32 = 14.0;
const STILL_CHROMA: f32 = 8.0;
/// Seconds a cell must have been static foreground to be part of a static region.
pub const STATIC_MIN_S: f32 = 1.5;

/// Luma (and optionally chroma) backgrounds of one camera on the downscaled grid.
pub struct SceneModel {
    pub w: usize,
    pub h: usize,
    /// Current frame, downscaled.
    pub cur: Vec<f32>,
    pub long: Vec<f32>,
    pub short: Vec<f32>,
    /// Seconds each cell has been static foreground.
    pub static_s: Vec<f32>,
    /// Current frame / long-term background brightness ratio.
    pub gain: f32,
    /// Chroma planes (graffiti): current, long-term and short-term, same grid.
    pub chroma: Option<Chroma>,
    initialised: bool,
    ratios: Vec<f32>,
    /// Per-cell scratch flags of the update passes.
    flags: Vec<u8>,
}

pub struct Chroma {
    pub cur_u: Vec<f32>,
    pub cur_v: Vec<f32>,
    pub long_u: Vec<f32>,
    pub long_v: Vec<f32>,
    pub short_u: Vec<f32>,
    pub short_v: Vec<f32>,
}

/// One connected region of cells.
#[derive(Debug, Clone)]
pub struct Component {
    pub cells: Vec<u32>,
    /// Inclusive cell bounds.
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Component {
    pub fn area(&self) -> usize {
        self.cells.len()
    }

    /// Bounds in full-frame pixels.
    pub fn bbox_px(&self) -> vigie_core::BBox {
        let c = CELL as f32;
        vigie_core::BBox::new(
            self.x0 as f32 * c,
            self.y0 as f32 * c,
            (self.x1 + 1) as f32 * c,
            (self.y1 + 1) as f32 * c,
        )
    }
}

/// Box-filter downscale by `f` (2 or 4 in practice), summing rows into a buffer first so the
/// inner loops stay simple enough for the compiler to vectorise.
fn downscale(plane: &[u8], pw: usize, f: usize, out: &mut [f32], w: usize, h: usize) {
    let inv = 1.0 / (f * f) as f32;
    let mut cols = vec![0u16; w * f];
    for gy in 0..h {
        cols.iter_mut().for_each(|v| *v = 0);
        for yy in gy * f..gy * f + f {
            let line = &plane[yy * pw..yy * pw + w * f];
            for (c, &p) in cols.iter_mut().zip(line) {
                *c += p as u16;
            }
        }
        for (o, chunk) in out[gy * w..(gy + 1) * w].iter_mut().zip(cols.chunks_exact(f)) {
            *o = chunk.iter().map(|&v| v as u32).sum::<u32>() as f32 * inv;
        }
    }
}

impl SceneModel {
    pub fn new(frame_w: usize, frame_h: usize, with_chroma: bool) -> Self {
        let (w, h) = (frame_w / CELL, frame_h / CELL);
        let n = w * h;
        let chroma = with_chroma.then(|| Chroma {
            cur_u: vec![128.0; n],
            cur_v: vec![128.0; n],
            long_u: vec![128.0; n],
            long_v: vec![128.0; n],
            short_u: vec![128.0; n],
            short_v: vec![128.0; n],
        });
        SceneModel {
            w,
            h,
            cur: vec![0.0; n],
            long: vec![0.0; n],
            short: vec![0.0; n],
            static_s: vec![0.0; n],
            gain: 1.0,
            chroma,
            initialised: false,
            ratios: Vec::new(),
            flags: Vec::new(),
        }
    }

    #[inline]
    pub fn is_foreground(&self, i: usize) -> bool {
        let bg = self.gain * self.long[i];
        (self.cur[i] - bg).abs() > FG_ABS + FG_REL * bg
    }

    /// Feeds one frame, `dt_s` seconds after the previous one.
    pub fn update(&mut self, frame: &Frame, dt_s: f32) {
        let (w, h) = (self.w, self.h);
        if frame.width / CELL != w || frame.height / CELL != h {
            return;
        }
        downscale(&frame.y, frame.width, CELL, &mut self.cur, w, h);
        if let Some(c) = &mut self.chroma {
            let cw = frame.chroma_width();
            downscale(&frame.u, cw, CELL / 2, &mut c.cur_u, w, h);
            downscale(&frame.v, cw, CELL / 2, &mut c.cur_v, w, h);
        }
        if !self.initialised {
            self.long.copy_from_slice(&self.cur);
            self.short.copy_from_slice(&self.cur);
            if let Some(c) = &mut self.chroma {
                c.long_u.copy_from_slice(&c.cur_u);
                c.long_v.copy_from_slice(&c.cur_v);
                c.short_u.copy_from_slice(&c.cur_u);
                c.short_v.copy_from_slice(&c.cur_v);
            }
            self.initialised = true;
            return;
        }
        let dt = dt_s.clamp(0.0, 2.0);
        self.gain = self.estimate_gain();
        let a_long = (dt / TAU_LONG_S).min(1.0);
        let a_absorb = (dt / TAU_ABSORB_S).min(1.0);
        let a_short = (dt / TAU_SHORT_S).min(1.0);
        let g = self.gain;
        let inv_g = 1.0 / g;
        // Three simple passes over zipped slices (no bounds checks, vectorisable): chroma
        // tests, luma tests and static time, then the chroma backgrounds.
        self.flags.resize(w * h, 0);
        if let Some(c) = &self.chroma {
            for ((fl, (&cu, &cv)), (&lu, &lv)) in
                self.flags.iter_mut().zip(c.cur_u.iter().zip(&c.cur_v)).zip(c.long_u.iter().zip(&c.long_v))
            {
                // Chroma scales with the light around its neutral point, like luma.
                let dl = ((cu - 128.0) - g * (lu - 128.0)).abs() + ((cv - 128.0) - g * (lv - 128.0)).abs();
                *fl = (dl > FG_CHROMA) as u8;
            }
            for ((fl, (&cu, &cv)), (&su, &sv)) in
                self.flags.iter_mut().zip(c.cur_u.iter().zip(&c.cur_v)).zip(c.short_u.iter().zip(&c.short_v))
            {
                let ds = (cu - su).abs() + (cv - sv).abs();
                *fl |= ((ds >= STILL_CHROMA) as u8) << 1;
            }
        } else {
            self.flags.iter_mut().for_each(|f| *f = 0);
        }
        for (((fl, st), (&cur, long)), short) in self
            .flags
            .iter_mut()
            .zip(self.static_s.iter_mut())
            .zip(self.cur.iter().zip(self.long.iter_mut()))
            .zip(self.short.iter_mut())
        {
            let bg = g * *long;
            let fg = (cur - bg).abs() > FG_ABS + FG_REL * bg || *fl & 1 != 0;
            let still = (cur - *short).abs() < STILL_ABS + STILL_REL * *short && *fl & 2 == 0;
            if !fg {
                *st = 0.0;
            } else if still {
                *st += dt;
            }
            let a = if fg { a_absorb } else { a_long };
            *long += a * (cur * inv_g - *long);
            *short += a_short * (cur - *short);
            *fl = fg as u8;
        }
        if let Some(c) = &mut self.chroma {
            let Chroma { cur_u, cur_v, long_u, long_v, short_u, short_v } = c;
            for (((fl, (&cu, &cv)), (lu, lv)), (su, sv)) in self
                .flags
                .iter()
                .zip(cur_u.iter().zip(cur_v.iter()))
                .zip(long_u.iter_mut().zip(long_v.iter_mut()))
                .zip(short_u.iter_mut().zip(short_v.iter_mut()))
            {
                let a = if *fl != 0 { a_absorb } else { a_long };
                *lu += a * ((cu - 128.0) * inv_g + 128.0 - *lu);
                *lv += a * ((cv - 128.0) * inv_g + 128.0 - *lv);
                *su += a_short * (cu - *su);
                *sv += a_short * (cv - *sv);
            }
        }
    }

    /// Median ratio current / long-term over a sparse grid: robust to the foreground.
    fn estimate_gain(&mut self) -> f32 {
        self.ratios.clear();
        for y in (1..self.h).step_by(3) {
            for x in (1..self.w).step_by(3) {
                let i = y * self.w + x;
                if self.long[i] > 12.0 {
                    self.ratios.push(self.cur[i] / self.long[i]);
                }
            }
        }
        if self.ratios.len() < 8 {
            return 1.0;
        }
        let mid = self.ratios.len() / 2;
        let (_, m, _) = self.ratios.select_nth_unstable_by(mid, f32::total_cmp);
        m.clamp(0.2, 5.0)
    }

    /// Takes cells into the long-term background now (a ghost, a lighting patch, an object
    /// already reported) and forgets their static time.
    pub fn absorb(&mut self, cells: &[u32]) {
        let inv_g = 1.0 / self.gain;
        for &i in cells {
            let i = i as usize;
            self.long[i] = self.cur[i] * inv_g;
            self.static_s[i] = 0.0;
            if let Some(c) = &mut self.chroma {
                c.long_u[i] = 128.0 + (c.cur_u[i] - 128.0) * inv_g;
                c.long_v[i] = 128.0 + (c.cur_v[i] - 128.0) * inv_g;
            }
        }
    }

    /// Absorbs the short-term background (the settled picture) into the long-term one.
    pub fn absorb_settled(&mut self, cells: &[u32]) {
        let inv_g = 1.0 / self.gain;
        for &i in cells {
            let i = i as usize;
            self.long[i] = self.short[i] * inv_g;
            self.static_s[i] = 0.0;
            if let Some(c) = &mut self.chroma {
                c.long_u[i] = 128.0 + (c.short_u[i] - 128.0) * inv_g;
                c.long_v[i] = 128.0 + (c.short_v[i] - 128.0) * inv_g;
            }
        }
    }

    /// Whether a new region is a *ghost* (something that was in the background and left, so
    /// the background has the edges and the picture has none) rather than an object that
    /// arrived (edges in the picture). Compares gradient energy along the region's border.
    pub fn is_ghost(&self, comp: &Component, in_region: &[bool]) -> bool {
        let (w, h) = (self.w, self.h);
        let grad = |img: &[f32], x: usize, y: usize| -> f32 {
            let xl = x.saturating_sub(1);
            let xr = (x + 1).min(w - 1);
            let yu = y.saturating_sub(1);
            let yd = (y + 1).min(h - 1);
            (img[y * w + xr] - img[y * w + xl]).abs() + (img[yd * w + x] - img[yu * w + x]).abs()
        };
        let (mut e_cur, mut e_long) = (0.0f32, 0.0f32);
        for &c in &comp.cells {
            let c = c as usize;
            let (x, y) = (c % w, c / w);
            let border = x == 0
                || y == 0
                || x + 1 == w
                || y + 1 == h
                || !in_region[c - 1]
                || !in_region[c + 1]
                || !in_region[c - w]
                || !in_region[c + w];
            if border {
                e_cur += grad(&self.cur, x, y);
                e_long += grad(&self.long, x, y) * self.gain;
                if let Some(c) = &self.chroma {
                    e_cur += grad(&c.cur_u, x, y) + grad(&c.cur_v, x, y);
                    e_long += (grad(&c.long_u, x, y) + grad(&c.long_v, x, y)) * self.gain;
                }
            }
        }
        e_cur < 0.8 * e_long
    }

    /// Whether the change over a region looks like light or shadow rather than a new surface:
    /// the background's texture is still there, only scaled (high correlation with the
    /// reference). Flat regions cannot tell; they are left to the other cues (who was near).
    pub fn is_illumination(&self, cells: &[u32], cur: &[f32], reference: &[f32]) -> bool {
        let n = cells.len() as f32;
        if n < 4.0 {
            return false;
        }
        let (mut sa, mut sb) = (0.0f32, 0.0f32);
        for &c in cells {
            sa += cur[c as usize];
            sb += reference[c as usize];
        }
        let (ma, mb) = (sa / n, sb / n);
        let (mut vaa, mut vbb, mut vab) = (0.0f32, 0.0f32, 0.0f32);
        for &c in cells {
            let (a, b) = (cur[c as usize] - ma, reference[c as usize] - mb);
            vaa += a * a;
            vbb += b * b;
            vab += a * b;
        }
        if (vaa / n).sqrt() < 3.0 || (vbb / n).sqrt() < 3.0 {
            return false;
        }
        vab / (vaa.sqrt() * vbb.sqrt()) > 0.8
    }
}

/// 3×3 dilation of a mask.
pub fn dilate(mask: &[bool], out: &mut [bool], w: usize, h: usize) {
    out.iter_mut().for_each(|o| *o = false);
    for y in 0..h {
        for x in 0..w {
            if !mask[y * w + x] {
                continue;
            }
            for yy in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for xx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    out[yy * w + xx] = true;
                }
            }
        }
    }
}

/// The cells of `c` that are set in `mask`, with bounds recomputed; `None` when fewer than `min_area`.
pub fn restrict(c: Component, mask: &[bool], w: usize, min_area: usize) -> Option<Component> {
    let cells: Vec<u32> = c.cells.into_iter().filter(|&i| mask[i as usize]).collect();
    if cells.len() < min_area {
        return None;
    }
    let mut out = Component { cells, x0: usize::MAX, y0: usize::MAX, x1: 0, y1: 0 };
    for &i in &out.cells {
        let (x, y) = (i as usize % w, i as usize / w);
        out.x0 = out.x0.min(x);
        out.y0 = out.y0.min(y);
        out.x1 = out.x1.max(x);
        out.y1 = out.y1.max(y);
    }
    Some(out)
}

/// 8-connected components of `mask` (row-major `w`×`h`), with at least `min_area` cells.
/// Two-pass labelling with union-find.
pub fn components(mask: &[bool], w: usize, h: usize, min_area: usize) -> Vec<Component> {
    let mut labels = vec![0u32; w * h];
    let mut parent: Vec<u32> = vec![0];
    fn find(p: &mut [u32], mut x: u32) -> u32 {
        while p[x as usize] != x {
            p[x as usize] = p[p[x as usize] as usize];
            x = p[x as usize];
        }
        x
    }
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !mask[i] {
                continue;
            }
            let mut best = 0u32;
            let mut neigh = [0u32; 4];
            if x > 0 {
                neigh[0] = labels[i - 1];
            }
            if y > 0 {
                neigh[1] = labels[i - w];
                if x > 0 {
                    neigh[2] = labels[i - w - 1];
                }
                if x + 1 < w {
                    neigh[3] = labels[i - w + 1];
                }
            }
            for &n in &neigh {
                if n != 0 {
                    let r = find(&mut parent, n);
                    if best == 0 || r < best {
                        best = r;
                    }
                }
            }
            if best == 0 {
                best = parent.len() as u32;
                parent.push(best);
            } else {
                for &n in &neigh {
                    if n != 0 {
                        let r = find(&mut parent, n);
                        if r != best {
                            parent[r as usize] = best;
                        }
                    }
                }
            }
            labels[i] = best;
        }
    }
    let mut index = vec![u32::MAX; parent.len()];
    let mut out: Vec<Component> = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        if *l == 0 {
            continue;
        }
        let r = find(&mut parent, *l) as usize;
        let (x, y) = (i % w, i / w);
        if index[r] == u32::MAX {
            index[r] = out.len() as u32;
            out.push(Component { cells: Vec::new(), x0: x, y0: y, x1: x, y1: y });
        }
        let c = &mut out[index[r] as usize];
        c.cells.push(i as u32);
        c.x0 = c.x0.min(x);
        c.x1 = c.x1.max(x);
        c.y0 = c.y0.min(y);
        c.y1 = c.y1.max(y);
    }
    out.retain(|c| c.area() >= min_area);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_8_connected_and_filtered_by_area() {
        #[rustfmt::skip]
        let m: Vec<bool> = [
            1, 1, 0, 0, 0,
            0, 0, 1, 0, 1,
            0, 0, 0, 0, 1,
            1, 0, 0, 0, 1,
        ].iter().map(|&v| v == 1).collect();
        let mut c = components(&m, 5, 4, 1);
        c.sort_by_key(|c| c.cells[0]);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].area(), 3, "diagonal neighbour joins");
        assert_eq!((c[1].x0, c[1].y0, c[1].x1, c[1].y1), (4, 1, 4, 3));
        assert_eq!(components(&m, 5, 4, 2).len(), 2);
    }

    #[test]
    fn u_shape_merges_into_one_component() {
        #[rustfmt::skip]
        let m: Vec<bool> = [
            1, 0, 1,
            1, 0, 1,
            1, 1, 1,
        ].iter().map(|&v| v == 1).collect();
        let c = components(&m, 3, 3, 1);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].area(), 7);
    }

    fn flat_frame(w: usize, h: usize, y: u8) -> Frame {
        Frame::solid(w, h, [y, 128, 128])
    }

    #[test]
    fn static_object_accumulates_and_global_light_does_not() {
        let (w, h) = (64, 48);
        let mut m = SceneModel::new(w, h, false);
        let mut f = flat_frame(w, h, 100);
        m.update(&f, 0.1);
        for _ in 0..20 {
            m.update(&f, 0.1);
        }
        // A dark square appears and stays.
        for y in 16..32 {
            for x in 16..32 {
                f.y[y * w + x] = 40;
            }
        }
        for _ in 0..40 {
            m.update(&f, 0.1);
        }
        let inside = 6 * m.w + 6;
        let outside = 1;
        assert!(m.static_s[inside] > 2.0, "object cells are static: {}", m.static_s[inside]);
        assert_eq!(m.static_s[outside], 0.0);
        // The object goes: the cell is background again at once.
        let g = flat_frame(w, h, 100);
        m.update(&g, 0.1);
        assert_eq!(m.static_s[inside], 0.0);
        // Lights up by 40 % everywhere: no foreground anywhere.
        let bright = flat_frame(w, h, 140);
        for _ in 0..30 {
            m.update(&bright, 0.1);
        }
        assert!((m.gain - 1.4).abs() < 0.05, "gain {}", m.gain);
        assert!(m.static_s.iter().all(|&s| s == 0.0));
    }
}

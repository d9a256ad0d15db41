//! Rectangular linear assignment with a cost limit, as ByteTrack's
//! `lap.lapjv(cost, extend_cost=True, cost_limit=thresh)`.
//!
//! Hand-written rather than taken from a crate: `pathfinding`'s Kuhn–Munkres needs `Ord` weights
//! (no `f32`) and the `lapjv` crate square matrices; neither has lapjv's cost limit, which they
//! could only emulate on a padded (n+m)² matrix. The tracker's matrices are tiny (tens of rows),
//! where an O(n²m) Hungarian method with reused buffers takes microseconds, and most rows can be
//! settled before it runs.
//!
//! Semantics: among all partial matchings that only use pairs with `cost < cost_limit`, find one
//! minimising `Σ (cost − cost_limit)`, i.e. a pair is worth making when it costs less than leaving
//! its row and its column unmatched at `cost_limit / 2` each — exactly what lapjv's extended matrix
//! computes. Non-finite costs never match.

/// Reusable buffers for [`LinearAssignment::solve`]; keep one per tracker so that solving allocates nothing.
#[derive(Debug, Default, Clone)]
pub struct LinearAssignment {
    rows_kept: Vec<usize>,
    cols_kept: Vec<usize>,
    col_count: Vec<u32>,
    /// The clipped cost matrix of the kept rows and columns, `n × m` with `n ≤ m`.
    a: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
    p: Vec<usize>,
    way: Vec<usize>,
    minv: Vec<f64>,
    used: Vec<bool>,
}

impl LinearAssignment {
    pub fn new() -> Self {
        Self::default()
    }

    /// `cost` is row-major `rows × cols`. Appends the matched `(row, col)` pairs to `matches`
    /// (cleared first), sorted by row.
    pub fn solve(
        &mut self,
        cost: &[f32],
        rows: usize,
        cols: usize,
        cost_limit: f32,
        matches: &mut Vec<(usize, usize)>,
    ) {
        assert_eq!(cost.len(), rows * cols, "cost matrix is not rows × cols");
        matches.clear();
        if rows == 0 || cols == 0 {
            return;
        }
        // Rows and columns without a single pair under the limit stay unmatched whatever happens,
        // and a pair that is the only candidate of both its row and its column is always made:
        // only the rest, where tracks compete for detections, goes to the Hungarian method. In a
        // street scene that is a small part of the matrix.
        let usable = |v: f32| v.is_finite() && v < cost_limit;
        self.col_count.clear();
        self.col_count.resize(cols, 0);
        for r in 0..rows {
            for (c, &v) in cost[r * cols..(r + 1) * cols].iter().enumerate() {
                if usable(v) {
                    self.col_count[c] += 1;
                }
            }
        }
        self.rows_kept.clear();
        for r in 0..rows {
            let row = &cost[r * cols..(r + 1) * cols];
            let mut count = 0;
            let mut last = 0;
            for (c, &v) in row.iter().enumerate() {
                if usable(v) {
                    count += 1;
                    last = c;
                }
            }
            if count == 1 && self.col_count[last] == 1 {
                matches.push((r, last));
                self.col_count[last] = 0;
            } else if count > 0 {
                self.rows_kept.push(r);
            }
        }
        self.cols_kept.clear();
        self.cols_kept.extend((0..cols).filter(|&c| self.col_count[c] > 0));
        let (kr, kc) = (self.rows_kept.len(), self.cols_kept.len());
        if kr == 0 {
            matches.sort_unstable();
            return;
        }
        // The Hungarian method below needs n ≤ m; solve the transpose when there are more rows.
        let transposed = kr > kc;
        let (n, m) = if transposed { (kc, kr) } else { (kr, kc) };
        let limit = cost_limit as f64;
        // Clipping at 0 turns "leave unmatched" into a zero-cost pairing: a complete row assignment
        // of the clipped matrix has the same optimum as the best partial matching of the original.
        self.a.clear();
        self.a.resize(n * m, 0.0);
        for (i, &r) in self.rows_kept.iter().enumerate() {
            for (j, &c) in self.cols_kept.iter().enumerate() {
                let v = cost[r * cols + c];
                if usable(v) {
                    let at = if transposed { j * m + i } else { i * m + j };
                    self.a[at] = v as f64 - limit;
                }
            }
        }

        self.u.clear();
        self.u.resize(n + 1, 0.0);
        self.v.clear();
        self.v.resize(m + 1, 0.0);
        self.p.clear();
        self.p.resize(m + 1, 0);
        self.way.clear();
        self.way.resize(m + 1, 0);
        // Shortest augmenting paths with potentials (the classic O(n²m) formulation), 1-based with
        // column 0 as the virtual source.
        for i in 1..=n {
            self.p[0] = i;
            let mut j0 = 0usize;
            self.minv.clear();
            self.minv.resize(m + 1, f64::INFINITY);
            self.used.clear();
            self.used.resize(m + 1, false);
            loop {
                self.used[j0] = true;
                let i0 = self.p[j0];
                let mut delta = f64::INFINITY;
                let mut j1 = 0usize;
                let row = &self.a[(i0 - 1) * m..i0 * m];
                let ui0 = self.u[i0];
                for j in 1..=m {
                    if !self.used[j] {
                        let cur = row[j - 1] - ui0 - self.v[j];
                        if cur < self.minv[j] {
                            self.minv[j] = cur;
                            self.way[j] = j0;
                        }
                        if self.minv[j] < delta {
                            delta = self.minv[j];
                            j1 = j;
                        }
                    }
                }
                for j in 0..=m {
                    if self.used[j] {
                        self.u[self.p[j]] += delta;
                        self.v[j] -= delta;
                    } else {
                        self.minv[j] -= delta;
                    }
                }
                j0 = j1;
                if self.p[j0] == 0 {
                    break;
                }
            }
            loop {
                let j1 = self.way[j0];
                self.p[j0] = self.p[j1];
                j0 = j1;
                if j0 == 0 {
                    break;
                }
            }
        }
        for j in 1..=m {
            let i = self.p[j];
            if i == 0 {
                continue;
            }
            let (ri, ci) = if transposed { (j - 1, i - 1) } else { (i - 1, j - 1) };
            let (r, c) = (self.rows_kept[ri], self.cols_kept[ci]);
            let v = cost[r * cols + c];
            if usable(v) {
                matches.push((r, c));
            }
        }
        matches.sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic generator (xorshift), enough to draw test matrices.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn unit(&mut self) -> f32 {
            (self.next() >> 40) as f32 / (1u64 << 24) as f32
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Best objective Σ(cost − limit) over all partial matchings, by exhaustive search.
    fn brute(cost: &[f32], rows: usize, cols: usize, limit: f32, row: usize, used: &mut [bool]) -> f64 {
        if row == rows {
            return 0.0;
        }
        let mut best = brute(cost, rows, cols, limit, row + 1, used);
        for j in 0..cols {
            let c = cost[row * cols + j];
            if !used[j] && c.is_finite() && c < limit {
                used[j] = true;
                best = best.min((c - limit) as f64 + brute(cost, rows, cols, limit, row + 1, used));
                used[j] = false;
            }
        }
        best
    }

    #[test]
    fn matches_brute_force_on_random_matrices() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut la = LinearAssignment::new();
        let mut matches = Vec::new();
        for case in 0..3000 {
            let rows = rng.below(6);
            let cols = rng.below(6);
            let limit = 0.05 + 0.95 * rng.unit();
            let cost: Vec<f32> = (0..rows * cols)
                .map(|_| match rng.below(10) {
                    // Sparse matrices too, as in a street scene where few pairs overlap.
                    0..=1 if case % 2 == 0 => f32::INFINITY,
                    2..=4 if case % 2 == 0 => 1.0,
                    0 => f32::INFINITY,
                    1 => f32::NAN,
                    _ => rng.unit(),
                })
                .collect();
            la.solve(&cost, rows, cols, limit, &mut matches);
            let mut rows_seen = vec![false; rows];
            let mut cols_seen = vec![false; cols];
            let mut got = 0.0f64;
            for &(r, c) in &matches {
                assert!(!rows_seen[r] && !cols_seen[c], "case {case}: row or column matched twice");
                rows_seen[r] = true;
                cols_seen[c] = true;
                let v = cost[r * cols + c];
                assert!(v < limit, "case {case}: pair ({r},{c}) cost {v} not under the limit {limit}");
                got += (v - limit) as f64;
            }
            let best = brute(&cost, rows, cols, limit, 0, &mut vec![false; cols]);
            assert!((got - best).abs() < 1e-5, "case {case}: {rows}×{cols} got {got}, optimum {best}, {cost:?}");
        }
    }

    #[test]
    fn prefers_two_fair_pairs_to_one_excellent_pair() {
        // Greedy would take (0,0) at 0.0 and leave row 1 unmatched; the optimum makes two pairs.
        let cost = [0.0, 0.3, 0.3, f32::INFINITY];
        let mut matches = Vec::new();
        LinearAssignment::new().solve(&cost, 2, 2, 0.8, &mut matches);
        assert_eq!(matches, vec![(0, 1), (1, 0)]);
        // With a limit below 0.3 the fair pairs are not worth making.
        LinearAssignment::new().solve(&cost, 2, 2, 0.25, &mut matches);
        assert_eq!(matches, vec![(0, 0)]);
    }

    #[test]
    fn tall_matrix_is_solved_through_its_transpose() {
        let cost = [0.9, 0.1, 0.5, 0.2, 0.05, 0.95];
        let mut matches = Vec::new();
        LinearAssignment::new().solve(&cost, 3, 2, 0.8, &mut matches);
        assert_eq!(matches, vec![(0, 1), (2, 0)]);
    }
}

//! Rectangular linear sum assignment (minimum cost), the role `scipy.optimize.linear_sum_assignment`
//! plays in TrackEval.
//!
//! Hand-written rather than a dependency: the maintained Rust options (`pathfinding::kuhn_munkres`,
//! `lapjv`) either require `Ord` integer-like weights or square matrices, while the metrics need exact
//! `f64` costs on rectangular matrices; the shortest-augmenting-path method below is ~50 lines.

/// Minimum-cost assignment on a `rows × cols` row-major cost matrix.
///
/// Returns `min(rows, cols)` pairs `(row, col)`, sorted by row, each row and column used at most once,
/// whose summed cost is minimal (up to floating-point rounding). Costs must be finite.
pub fn linear_sum_assignment(cost: &[f64], rows: usize, cols: usize) -> Vec<(usize, usize)> {
    assert_eq!(cost.len(), rows * cols, "cost matrix is not {rows}×{cols}");
    assert!(cost.iter().all(|c| c.is_finite()), "linear_sum_assignment needs finite costs");
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    let mut pairs = if rows <= cols {
        let col_of_row = assign_rows(rows, cols, |r, c| cost[r * cols + c]);
        col_of_row.into_iter().enumerate().collect::<Vec<_>>()
    } else {
        // The method augments one row at a time and needs a free column for each, so solve the transpose.
        let row_of_col = assign_rows(cols, rows, |c, r| cost[r * cols + c]);
        row_of_col.into_iter().enumerate().map(|(c, r)| (r, c)).collect()
    };
    pairs.sort_unstable();
    pairs
}

/// Shortest augmenting paths with row/column potentials (Kuhn–Munkres in its O(n²m) form, as in
/// Jonker–Volgenant's augmentation phase). Requires `n <= m`; returns the column given to each row.
fn assign_rows(n: usize, m: usize, a: impl Fn(usize, usize) -> f64) -> Vec<usize> {
    // 1-based, index 0 is the virtual root of each augmenting-path search.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut row_of = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    let mut minv = vec![0.0f64; m + 1];
    let mut used = vec![false; m + 1];
    for i in 1..=n {
        row_of[0] = i;
        let mut j0 = 0usize;
        minv.fill(f64::INFINITY);
        used.fill(false);
        loop {
            used[j0] = true;
            let i0 = row_of[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if !used[j] {
                    let reduced = a(i0 - 1, j - 1) - u[i0] - v[j];
                    if reduced < minv[j] {
                        minv[j] = reduced;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            // n <= m and finite costs guarantee a free column is always reachable.
            assert!(j1 != 0, "assignment search found no free column");
            for j in 0..=m {
                if used[j] {
                    u[row_of[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if row_of[j0] == 0 {
                break;
            }
        }
        // Flip the augmenting path back to the root.
        loop {
            let j1 = way[j0];
            row_of[j0] = row_of[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut col_of = vec![0usize; n];
    for j in 1..=m {
        if row_of[j] != 0 {
            col_of[row_of[j] - 1] = j - 1;
        }
    }
    col_of
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic generator so the tests need no `rand` dependency.
    struct Lcg(u64);
    impl Lcg {
        fn next_f64(&mut self) -> f64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Exhaustive minimum over all injective assignments of the smaller side into the larger.
    fn brute_force(cost: &[f64], rows: usize, cols: usize) -> f64 {
        fn go(cost: &[f64], rows: usize, cols: usize, r: usize, used: &mut Vec<bool>, transpose: bool) -> f64 {
            let (n, m) = if transpose { (cols, rows) } else { (rows, cols) };
            if r == n {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for c in 0..m {
                if !used[c] {
                    used[c] = true;
                    let here = if transpose { cost[c * cols + r] } else { cost[r * cols + c] };
                    best = best.min(here + go(cost, rows, cols, r + 1, used, transpose));
                    used[c] = false;
                }
            }
            best
        }
        let transpose = rows > cols;
        go(cost, rows, cols, 0, &mut vec![false; rows.max(cols)], transpose)
    }

    fn check(cost: &[f64], rows: usize, cols: usize) {
        let pairs = linear_sum_assignment(cost, rows, cols);
        assert_eq!(pairs.len(), rows.min(cols));
        let mut seen_r = vec![false; rows];
        let mut seen_c = vec![false; cols];
        for &(r, c) in &pairs {
            assert!(!seen_r[r] && !seen_c[c], "row or column used twice in {pairs:?}");
            seen_r[r] = true;
            seen_c[c] = true;
        }
        let got: f64 = pairs.iter().map(|&(r, c)| cost[r * cols + c]).sum();
        let want = brute_force(cost, rows, cols);
        assert!((got - want).abs() < 1e-9, "{rows}×{cols}: got {got}, optimum {want}, cost {cost:?}");
    }

    #[test]
    fn matches_brute_force_on_random_matrices() {
        let mut rng = Lcg(7);
        for rows in 1..=6 {
            for cols in 1..=6 {
                for _ in 0..40 {
                    let cost: Vec<f64> = (0..rows * cols).map(|_| rng.next_f64() * 10.0 - 5.0).collect();
                    check(&cost, rows, cols);
                }
            }
        }
    }

    #[test]
    fn matches_brute_force_with_ties_and_large_bonuses() {
        // Mimics the CLEAR score matrix: many exact zeros, IoUs, and 1000-point continuity bonuses.
        let mut rng = Lcg(99);
        for rows in 1..=6 {
            for cols in 1..=6 {
                for _ in 0..40 {
                    let cost: Vec<f64> = (0..rows * cols)
                        .map(|_| {
                            let p = rng.next_f64();
                            let iou = rng.next_f64();
                            if p < 0.4 {
                                0.0
                            } else if p < 0.6 {
                                -(1000.0 + iou)
                            } else {
                                -iou
                            }
                        })
                        .collect();
                    check(&cost, rows, cols);
                }
            }
        }
    }

    #[test]
    fn known_case_and_empty() {
        let cost = [4.0, 1.0, 3.0, 2.0, 0.0, 5.0, 3.0, 2.0, 2.0];
        assert_eq!(linear_sum_assignment(&cost, 3, 3), vec![(0, 1), (1, 0), (2, 2)]);
        assert!(linear_sum_assignment(&[], 0, 4).is_empty());
        assert!(linear_sum_assignment(&[], 3, 0).is_empty());
    }
}

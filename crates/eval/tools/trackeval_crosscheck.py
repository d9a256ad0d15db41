"""Cross-checks vigie-eval against TrackEval itself on random synthetic sequences.

Not part of the test suite (it needs Python, numpy, scipy and `trackeval`); run it after changing the metrics:

    python3 -m venv /tmp/te-venv && /tmp/te-venv/bin/pip install trackeval==1.3.0
    cargo build --release -p vigie-eval --example trackeval_layout
    /tmp/te-venv/bin/python crates/eval/tools/trackeval_crosscheck.py \
        --bin $CARGO_TARGET_DIR/release/examples/trackeval_layout --root /tmp/te-check --seqs 150 --seed 1 [--dense]

Generates ground truth (gaps, conf-0 rows, empty sequences) and tracker output (noise, misses, id switches,
false positives, frames without tracker boxes or without gt), runs TrackEval's MotChallenge2DBox
(MOT15, DO_PREPROC=False; HOTA, CLEAR, Identity) and the example, and compares every metric per
sequence and combined, plus per-alpha HOTA/LocA/AssA. Exit status 1 on any difference above 1e-9.
"""
import argparse
import json, os, random, shutil, subprocess, sys
import numpy as np
import trackeval

ap = argparse.ArgumentParser()
ap.add_argument("--bin", required=True, help="path to the built trackeval_layout example")
ap.add_argument("--root", required=True, help="scratch directory (wiped)")
ap.add_argument("--seqs", type=int, default=150)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--dense", action="store_true", help="crowded scenes: up to 25 ids in a 150x100 area")
args = ap.parse_args()
root, nseq, seed = args.root, args.seqs, args.seed
rng = random.Random(seed)
shutil.rmtree(root, ignore_errors=True)
seq_info = {}
for k in range(nseq):
    seq = f"seq{k:03d}"
    nframes = rng.randint(5, 60)
    nids = rng.randint(1, 25) if args.dense else rng.randint(0 if k % 17 == 5 else 1, 8)
    gt_rows, tr_rows = [], []
    next_tid = 1
    for gid in range(1, nids + 1):
        start = rng.randint(1, nframes); end = rng.randint(start, nframes)
        x, y = (rng.uniform(0, 150), rng.uniform(0, 100)) if args.dense else (rng.uniform(0, 500), rng.uniform(0, 300))
        w, h = rng.uniform(20, 80), rng.uniform(50, 160)
        vx, vy = rng.uniform(-8, 8), rng.uniform(-5, 5)
        tid = next_tid; next_tid += 1
        ignore = rng.random() < 0.1
        for f in range(start, end + 1):
            x += vx + rng.uniform(-2, 2); y += vy + rng.uniform(-2, 2)
            if rng.random() < 0.1:  # gt gap
                continue
            conf = 0 if (ignore or rng.random() < 0.03) else 1
            gt_rows.append((f, gid, round(x, 2), round(y, 2), round(w, 2), round(h, 2), conf))
            if k % 17 == 3:  # empty tracker sequence
                continue
            if rng.random() < 0.15:  # miss
                continue
            if rng.random() < 0.05:  # id switch
                tid = next_tid; next_tid += 1
            noise = rng.choice([2, 5, 12, 25])
            tr_rows.append((f, tid, round(x + rng.uniform(-noise, noise), 2), round(y + rng.uniform(-noise, noise), 2),
                            round(w * rng.uniform(0.8, 1.2), 2), round(h * rng.uniform(0.8, 1.2), 2), 1))
    if k % 17 != 3:
        for _ in range(rng.randint(0, 15)):  # false positives, some with reused ids
            f = rng.randint(1, nframes)
            tid = rng.randint(1, next_tid + 3)
            if any(r[0] == f and r[1] == tid for r in tr_rows):
                continue
            tr_rows.append((f, tid, round(rng.uniform(0, 500), 2), round(rng.uniform(0, 300), 2), round(rng.uniform(20, 80), 2), round(rng.uniform(50, 160), 2), 1))
    # wipe all tracker boxes in some frames, and all gt in others
    for _ in range(rng.randint(0, 3)):
        f = rng.randint(1, nframes); tr_rows = [r for r in tr_rows if r[0] != f]
    for _ in range(rng.randint(0, 2)):
        f = rng.randint(1, nframes); gt_rows = [r for r in gt_rows if r[0] != f]
    rng.shuffle(tr_rows)
    gt_rows.sort()
    os.makedirs(f"{root}/gt/{seq}/gt"); os.makedirs(f"{root}/tr/t/data", exist_ok=True)
    with open(f"{root}/gt/{seq}/gt/gt.txt", "w") as fh:
        for r in gt_rows: fh.write(",".join(map(str, r)) + ",-1,-1,-1\n")
    with open(f"{root}/tr/t/data/{seq}.txt", "w") as fh:
        for r in tr_rows: fh.write(",".join(map(str, r)) + ",-1,-1,-1\n")
    with open(f"{root}/gt/{seq}/seqinfo.ini", "w") as fh:
        fh.write(f"[Sequence]\nname={seq}\nseqLength={nframes}\n")
    seq_info[seq] = nframes

ec = trackeval.Evaluator.get_default_eval_config()
ec.update(dict(USE_PARALLEL=False, PRINT_RESULTS=False, PRINT_CONFIG=False, TIME_PROGRESS=False, OUTPUT_SUMMARY=False,
               OUTPUT_DETAILED=False, PLOT_CURVES=False, DISPLAY_LESS_PROGRESS=True, BREAK_ON_ERROR=True))
dc = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
dc.update(dict(GT_FOLDER=f"{root}/gt", TRACKERS_FOLDER=f"{root}/tr", BENCHMARK='MOT15', SPLIT_TO_EVAL='train', DO_PREPROC=False,
               SKIP_SPLIT_FOL=True, SEQ_INFO=seq_info, TRACKERS_TO_EVAL=['t'], PRINT_CONFIG=False))
metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR({'THRESHOLD': 0.5, 'PRINT_CONFIG': False}),
           trackeval.metrics.Identity({'THRESHOLD': 0.5, 'PRINT_CONFIG': False})]
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    res, _ = trackeval.Evaluator(ec).evaluate([trackeval.datasets.MotChallenge2DBox(dc)], metrics)
te = res['MotChallenge2DBox']['t']

ours = json.loads(subprocess.check_output([args.bin, root]))
pairs = [("HOTA", "HOTA", "hota", 100), ("HOTA", "DetA", "det_a", 100), ("HOTA", "AssA", "ass_a", 100), ("HOTA", "LocA", "loc_a", 100),
         ("HOTA", "DetRe", "det_re", 100), ("HOTA", "DetPr", "det_pr", 100), ("HOTA", "AssRe", "ass_re", 100), ("HOTA", "AssPr", "ass_pr", 100),
         ("CLEAR", "MOTA", "mota", 100), ("CLEAR", "MOTP", "motp", 100), ("CLEAR", "MODA", "moda", 100), ("CLEAR", "CLR_Re", "recall", 100),
         ("CLEAR", "CLR_Pr", "precision", 100), ("CLEAR", "CLR_TP", "clr_tp", 1), ("CLEAR", "CLR_FN", "clr_fn", 1), ("CLEAR", "CLR_FP", "clr_fp", 1),
         ("CLEAR", "IDSW", "id_switches", 1), ("CLEAR", "MT", "mt", 1), ("CLEAR", "PT", "pt", 1), ("CLEAR", "ML", "ml", 1), ("CLEAR", "Frag", "frag", 1),
         ("Identity", "IDF1", "idf1", 100), ("Identity", "IDP", "idp", 100), ("Identity", "IDR", "idr", 100), ("Identity", "IDTP", "idtp", 1),
         ("Identity", "IDFN", "idfn", 1), ("Identity", "IDFP", "idfp", 1)]
bad = 0; checked = 0; maxdiff = 0.0
for seq in list(seq_info) + ["COMBINED_SEQ"]:
    t = te[seq]['pedestrian']; o = ours[seq]
    for grp, tk, ok, scale in pairs:
        tv = t[grp][tk]
        tv = float(np.mean(tv)) * scale if np.ndim(tv) else float(tv) * scale
        d = abs(tv - o[ok]); maxdiff = max(maxdiff, d); checked += 1
        if d > 1e-9:
            bad += 1
            if bad < 30: print(f"MISMATCH {seq} {tk}: trackeval {tv} ours {o[ok]}")
    # per-alpha detail
    for a in range(19):
        for tk, ok in [("HOTA", "hota"), ("LocA", "loc_a"), ("AssA", "ass_a")]:
            d = abs(t["HOTA"][tk][a] * 100 - o["hota_alphas"][a][ok]); maxdiff = max(maxdiff, d); checked += 1
            if d > 1e-9:
                bad += 1
                if bad < 30: print(f"MISMATCH {seq} alpha{a} {tk}: {t['HOTA'][tk][a]*100} vs {o['hota_alphas'][a][ok]}")
print(f"sequences={len(seq_info)} values checked={checked} mismatches={bad} max|diff|={maxdiff:.3g}")
sys.exit(1 if bad else 0)

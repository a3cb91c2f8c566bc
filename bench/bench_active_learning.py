"""Does choosing what to label save labelling? A simulated person on a fully labelled hard demo.

A pool of hard-demo images (``yolo-studio demo --hard``) is fully labelled,
but the simulated person "reveals" an image's true boxes only when a
strategy picks it. A second hard demo (another seed) is the fixed held-out
set. Per seed: a random 5% of the pool is labelled and a YOLOv3-tiny is
trained on it from scratch (shared by every strategy of that seed); then each
round a strategy picks ``k`` images (scored by core/active with the current
weights), their boxes are revealed, and the model is retrained from its last
weights for a fixed short schedule (see bench_al_learner.py: the Trainer's
parts, kept in memory); the held-out mAP@0.5 is recorded against the number
labelled.

Strategies: random, each signal alone (uncertainty, consistency, diversity)
and the combination (core/active/select.py); ``combined:U:C:F`` names a
combination's weights and shortlist (F x k images for k-center; F <= 1: the
top k by weighted rank, no k-center), which is how select.DEFAULT_WEIGHTS
and POOL_FACTOR were chosen; plain ``combined`` is those defaults, with POOL_FACTOR
named explicitly (the app switches to a 3k shortlist on a pool of near-identical frames,
``select.has_near_duplicates``; the bench's rows never switch by themselves). The CSV
always names a combination in full. Every run of a seed is deterministic
(same start, same picks, same mAP), so rows of separate runs with the same
settings can be put side by side. Writes ``active_learning.csv``
(one row per strategy, seed and round; rows already there are kept and
skipped, so an interrupted bench continues), ``picks.csv`` (the images each
round picked, for bench_al_diagnose.py) and ``active_learning.png``
(mean mAP@0.5 over seeds against images labelled), and prints, per strategy,
the labels it needed to reach random's final mean mAP. ``--near-duplicates
FRAMES`` makes the pool video-like (bench_al_video.py), the case k-center
is for; ``warm:…`` and ``ee:…`` name the variants of bench_al_variants.py.

Usage (small, for a shared 2-core machine, under ``nice -n 10``):
  python bench/bench_active_learning.py --out bench-al
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

FIELDS = ["strategy", "seed", "round", "labelled", "map50", "train_s", "score_s"]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default="bench-al")
    p.add_argument("--pool", type=int, default=320, help="pool images (all labelled, revealed on pick)")
    p.add_argument("--heldout", type=int, default=100)
    p.add_argument("--image-size", type=int, nargs=2, default=(96, 128), metavar=("MIN", "MAX"))
    p.add_argument("--size", type=int, default=96, help="network input size")
    p.add_argument("--start", type=float, default=0.05, help="fraction of the pool labelled at the start")
    p.add_argument("--k", type=int, default=15, help="images picked per round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--first-epochs", type=int, default=12, help="from-scratch epochs on the start set")
    p.add_argument("--epochs", type=int, default=4, help="epochs of each retrain from the last weights")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--pretrain", type=int, default=0,
                   help="images of an earlier, disjoint hard demo the model is first trained on (0: none), "
                        "as a person who already has a model keeps labelling; shared by all seeds")
    p.add_argument("--pretrain-epochs", type=int, default=10)
    p.add_argument("--near-duplicates", type=int, default=1, metavar="FRAMES",
                   help="a video-like pool instead: FRAMES near-identical consecutive frames per scene "
                        "(bench_al_video.py); 1: the hard demo's independent images")
    p.add_argument("--scratch-budget", type=float, default=120.0,
                   help="least CPU seconds the from-scratch side of --retrain-check may train")
    p.add_argument("--report-only", action="store_true", help="summarise the CSV in --out; train nothing")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--strategies", default="random,uncertainty,consistency,diversity,combined",
                   help="comma-separated; a combination may name its weights and shortlist as "
                        "combined:U:C:F (uncertainty weight, consistency weight, shortlist F x k for "
                        "k-center, F <= 1: no k-center); plain 'combined' is select's defaults")
    p.add_argument("--retrain-check", action="store_true",
                   help="instead of the strategies: time retraining from the last weights against "
                        "training from scratch, to the previous model's mAP, on a grown set")
    return p.parse_args(argv)


def make_data(out: Path, args):
    """The pool and held-out projects (made once), with anchors fitted to the pool at --size."""
    from yolo_studio.core import anchors as anchor_fit
    from yolo_studio.core.model_family import AnchorSet
    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.project import Project

    data = out / "data"
    pool_dir, held_dir = data / "pool", data / "heldout"
    lo, hi = args.image_size
    if not (pool_dir / "yolo_studio.json").is_file():
        if args.near_duplicates > 1:
            from bench_al_video import make_video_pool
            make_video_pool(pool_dir, args.pool, args.near_duplicates, seed=100, min_size=lo, max_size=hi)
        else:
            generate_demo_project(pool_dir, args.pool, seed=100, min_size=lo, max_size=hi, kind="hard")
        pool = Project.open(pool_dir)
        anns, _ = pool.load_all()
        wh = anchor_fit.collect_box_sizes(anns, args.size).wh
        pool.anchors = AnchorSet.grouped(anchor_fit.fit_anchors(wh, 6, seed=0), "yolov3-tiny").to_json()
        pool.anchors_size = args.size
        pool.save()
    if not (held_dir / "yolo_studio.json").is_file():
        generate_demo_project(held_dir, args.heldout, seed=200, min_size=lo, max_size=hi, kind="hard")
    return Project.open(pool_dir), Project.open(held_dir)


def score_pool(learner, pool_paths, images, signal=None):
    """Uncertainty, consistency and embeddings of every pool image with the learner's current weights.

    ``signal`` (a bench_al_variants signal) replaces uncertainty by another per-image sum.
    """
    from yolo_studio.core.active.cache import ScoreTable
    from yolo_studio.core.active.job import score_batch

    import bench_al_variants

    table = ScoreTable()
    for i in range(0, len(pool_paths), 32):
        chunk = pool_paths[i:i + 32]
        ims = [images[q] for q in chunk]
        scored = bench_al_variants.score_batch(learner.probe, ims, signal) if signal else \
            score_batch(learner.probe, ims)
        for p, (unc, cons, emb) in zip(chunk, scored):
            table.put(str(p), unc, cons, emb, (0, 0))
    return table


def strategy_spec(name: str) -> tuple[str, dict | None, int | None]:
    """(strategy, weights, pool factor) of a --strategies entry such as ``combined:0.25:0.75:3``."""
    from yolo_studio.core.active import select

    base, _, rest = name.partition(":")
    if base != "combined":
        if rest or base not in select.STRATEGIES:
            raise SystemExit(f"--strategies: '{name}' is not one of {', '.join(select.STRATEGIES)}")
        return base, None, None
    if not rest:
        return base, dict(select.DEFAULT_WEIGHTS), select.POOL_FACTOR
    try:
        u, c, f = rest.split(":")
        return base, {"uncertainty": float(u), "consistency": float(c)}, int(f)
    except ValueError:
        raise SystemExit(f"--strategies: '{name}' should be combined:U:C:F, e.g. combined:0.25:0.75:3")


def canonical(name: str) -> str:
    """The CSV's name of a strategy: a combination always names its weights and shortlist."""
    from bench_al_variants import parse

    variant = parse(name)
    if variant is not None:
        signal, warm, combo = variant
        return f"{signal or f'warm:{warm}'}:{canonical(combo).partition(':')[2]}"
    base, w, f = strategy_spec(name)
    if w is None:
        return base
    f = f if f > 1 else 0                 # every F <= 1 is the same pick: top k, no k-center
    return f"combined:{w['uncertainty']:g}:{w['consistency']:g}:{f}"


def choose(strategy, table, pool_paths, revealed, k, seed):
    """``k`` new pool images by ``strategy`` (a canonical name)."""
    import numpy as np

    from yolo_studio.core.active import select

    strategy, weights, factor = strategy_spec(strategy)
    taken = set(revealed)
    left = [p for p in pool_paths if p not in taken]
    if strategy == "random":
        return [left[i] for i in select.pick("random", np.zeros(len(left)), np.zeros(len(left)),
                                             np.zeros((len(left), 1)), k, seed=seed)]
    rows = [table.rows[str(p)] for p in left]
    unc, cons = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    emb = np.stack([r[2] for r in rows])
    lab = np.stack([table.rows[str(p)][2] for p in revealed])
    return [left[i] for i in select.pick(strategy, unc, cons, emb, k, lab, seed, weights, factor)]


def run_seed(args, data, seed, strategies, done, writer):
    """The shared start for ``seed`` (trained once), then every strategy's rounds from it."""
    import numpy as np

    from bench_al_learner import Learner

    pool, pool_paths, images, held_anns, held_images = data
    n0 = max(1, round(args.start * len(pool_paths)))
    start = [pool_paths[i] for i in sorted(np.random.default_rng(seed).choice(len(pool_paths), n0, False))]
    learner = Learner(pool, args.size, args.batch, seed)
    if args.pretrain:
        learner.set_weights(pretrained(args, pool))
        learner.rounds = 1                         # no warm-up: it is not from scratch
    secs = learner.train(start, args.first_epochs)
    start_weights = learner.model.get_weights()
    if ("start", seed, 0) not in done:
        writer({"strategy": "start", "seed": seed, "round": 0, "labelled": n0,
                "map50": learner.map50(held_anns, held_images), "train_s": secs, "score_s": 0.0})
    from bench_al_variants import parse

    for strategy in strategies:
        if (strategy, seed, args.rounds) in done:
            continue
        signal, warm, combo = parse(strategy) or (None, 0, strategy)
        learner = Learner(pool, args.size, args.batch, seed)
        learner.set_weights(start_weights)
        learner.rounds = 1
        revealed = list(start)
        for r in range(1, args.rounds + 1):
            t0 = time.perf_counter()
            how = "random" if r <= warm else combo
            table = None if how == "random" else score_pool(learner, pool_paths, images, signal)
            picked = choose(how, table, pool_paths, revealed, args.k, seed * 1000 + r)
            revealed += picked
            _log_picks(Path(args.out), strategy, seed, r, picked)
            score_s = time.perf_counter() - t0
            secs = learner.train(revealed, args.epochs)
            m = learner.map50(held_anns, held_images)
            writer({"strategy": strategy, "seed": seed, "round": r, "labelled": len(revealed),
                    "map50": m, "train_s": secs, "score_s": score_s})


def _log_picks(out: Path, strategy, seed, rnd, picked) -> None:
    """Append a round's picks (image file names) to picks.csv, for diagnostics of what a strategy chose."""
    path = out / "picks.csv"
    new = not path.is_file()
    with open(path, "a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(["strategy", "seed", "round", "image"])
        w.writerows([strategy, seed, rnd, Path(p).name] for p in picked)


def retrain_check(args, data) -> None:
    """Time to the previous model's mAP on a grown set: retraining from its weights vs from scratch.

    The previous model is the first seed's start (pre-trained if asked, then
    the 5% start set); the set grows by ``k`` random images. CPU seconds of
    training, evaluation excluded; mAP checked after every epoch (retrain)
    or every second epoch (scratch, stopped at 10x the retrain's CPU time to
    the target, or --scratch-budget CPU s, whichever is more).
    """
    import json

    import numpy as np

    from bench_al_learner import Learner

    pool, pool_paths, _images, held_anns, held_images = data
    seed = args.seeds[0]
    n0 = max(1, round(args.start * len(pool_paths)))
    order = np.random.default_rng(seed).permutation(len(pool_paths))
    start = [pool_paths[i] for i in sorted(order[:n0])]
    grown = start + [pool_paths[i] for i in order[n0:n0 + args.k]]
    prev = Learner(pool, args.size, args.batch, seed)
    if args.pretrain:
        prev.set_weights(pretrained(args, pool))
        prev.rounds = 1
    prev.train(start, args.first_epochs)
    target = prev.map50(held_anns, held_images)
    out = {"target_map50": target, "labelled_before": n0, "labelled_after": len(grown)}
    for how in ("last weights", "scratch"):
        learner = Learner(pool, args.size, args.batch, seed)
        if how == "last weights":
            learner.set_weights(prev.model.get_weights())
            learner.rounds = 1
        limit = args.epochs * 3 if how == "last weights" else 1000
        every = 1 if how == "last weights" else 2
        budget = float("inf") if how == "last weights" else \
            max(args.scratch_budget, 10 * out["last weights"].get("cpu_s", 0.0))
        reached: dict = {}

        def check(epoch, cpu, every=every, reached=reached, learner=learner, budget=budget):
            if (epoch + 1) % every:
                return False
            reached.update(epoch=epoch + 1, cpu_s=round(cpu, 1), map50=learner.map50(held_anns, held_images))
            return reached["map50"] >= target or cpu > budget

        learner.train(grown, limit, after_epoch=check)
        out[how] = {**reached, "reached": reached.get("map50", 0.0) >= target, "epoch_limit": limit}
        print(f"  retrain check, {how}: {'reached' if out[how]['reached'] else 'did not reach'} "
              f"mAP@0.5 {target:.4f} (last {reached.get('map50', 0):.4f}) after {reached.get('epoch')} "
              f"epochs, {reached.get('cpu_s', 0):.0f} CPU s", flush=True)
    (Path(args.out) / "retrain_check.json").write_text(json.dumps(out, indent=1) + "\n")


def pretrained(args, pool):
    """Weights trained on an earlier, disjoint hard demo (made once, kept in --out)."""
    import numpy as np

    from bench_al_learner import Learner
    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.project import Project

    out = Path(args.out)
    cached = out / f"pretrained-{args.pretrain}-{args.pretrain_epochs}.npz"
    if cached.is_file():
        with np.load(cached) as data:
            return [data[f"w{i}"] for i in range(len(data.files))]
    folder = out / "data" / f"earlier-{args.pretrain}"
    if not (folder / "yolo_studio.json").is_file():
        lo, hi = args.image_size
        generate_demo_project(folder, args.pretrain, seed=300, min_size=lo, max_size=hi, kind="hard")
    earlier = Project.open(folder)
    earlier.anchors, earlier.anchors_size = pool.anchors, pool.anchors_size   # one model, one set of anchors
    learner = Learner(earlier, args.size, args.batch, 12345)
    secs = learner.train(earlier.image_paths(), args.pretrain_epochs)
    weights = learner.model.get_weights()
    np.savez(cached, **{f"w{i}": w for i, w in enumerate(weights)})
    print(f"  pretrained on {args.pretrain} earlier images, {args.pretrain_epochs} epochs, {secs:.0f} CPU s",
          flush=True)
    return weights


def load_data(out, args):
    """Projects, pool paths, decoded RGB pool images, held-out annotations and BGR images."""
    import cv2

    from yolo_studio.core.images import read_image

    pool, held = make_data(out, args)
    pool_paths = pool.image_paths()
    images = {p: cv2.cvtColor(read_image(p), cv2.COLOR_BGR2RGB) for p in pool_paths}
    held_anns, _ = held.load_all()
    return pool, pool_paths, images, held_anns, [read_image(a.image_path) for a in held_anns]


def read_rows(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path, newline="") as f:
        return [{**r, "seed": int(r["seed"]), "round": int(r["round"]), "labelled": int(r["labelled"]),
                 "map50": float(r["map50"]), "train_s": float(r["train_s"]), "score_s": float(r["score_s"])}
                for r in csv.DictReader(f)]


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "active_learning.csv"
    rows = read_rows(csv_path)
    done = {(r["strategy"], r["seed"], r["round"]) for r in rows}
    names = [s.strip() for s in args.strategies.split(",") if s.strip()]
    strategies = [s if args.report_only and s != "combined" else canonical(s) for s in names]
    if args.report_only:       # names as written: the CSV may hold rows of an earlier signal (e.g. *-v1)
        from bench_active_learning_report import report
        report([r for r in rows if r["seed"] in args.seeds], strategies, out / "active_learning.png")
        return 0
    data = load_data(out, args)
    if args.retrain_check:
        retrain_check(args, data)
        return 0

    def writer(row):
        row = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
        rows.append(row)
        new = not csv_path.is_file()
        with open(csv_path, "a", newline="") as f:
            w = csv.DictWriter(f, FIELDS)
            if new:
                w.writeheader()
            w.writerow(row)
        print(f"  {row['strategy']:12s} seed {row['seed']} round {row['round']}: {row['labelled']:4d} labelled, "
              f"mAP@0.5 {row['map50']:.4f} (train {row['train_s']:.0f} s, pick {row['score_s']:.0f} s)",
              flush=True)

    t0 = time.perf_counter()
    for seed in args.seeds:
        run_seed(args, data, seed, strategies, done, writer)
    from bench_active_learning_report import report

    report(rows, strategies, out / "active_learning.png")
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())

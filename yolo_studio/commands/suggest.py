"""``yolo-studio suggest PROJECT``: the unlabelled images the current model would learn most from."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from yolo_studio.core.errors import ConfigError


def add_parser(sub, name: str) -> argparse.ArgumentParser:
    """Register the ``suggest`` subcommand."""
    from yolo_studio.core.active.select import STRATEGIES

    p = sub.add_parser(name, help="list the unlabelled images most worth labelling next",
                       description="Score the project's unlabelled images with a trained model "
                                   "(uncertainty and flip/scale consistency; --strategy diversity "
                                   "spreads the picks over the feature space instead) and list the "
                                   "best N, most useful first. Scores are cached per checkpoint "
                                   "under the project's runs/active_cache/.")
    p.add_argument("project", help="project folder")
    p.add_argument("--weights", help="checkpoint or darknet .weights (default: the newest run's last weights)")
    p.add_argument("--n", type=int, default=50, help="how many images to list (default 50)")
    p.add_argument("--out", help="write the list (one image path a line) to this file; a file "
                                 "suggest did not write is never replaced")
    p.add_argument("--strategy", choices=STRATEGIES, default="combined",
                   help="combined (default), or one signal alone, or random")
    p.add_argument("--seed", type=int, default=0, help="seed for ties and the random strategy (default 0)")
    p.add_argument("--size", type=int, help="network input size, a multiple of 32 (default: the model's)")
    p.add_argument("--batch", type=int, default=8, help="images per scoring batch (default 8)")
    return p


def run(args) -> int:
    """Check the output first (fast), then score and print or write the list."""
    from yolo_studio.core.active.suggest import suggest
    from yolo_studio.core.output_guard import OutputFolder
    from yolo_studio.core.project import Project

    if args.n < 1:
        raise ConfigError(f"--n must be at least 1, got {args.n}")
    if args.batch < 1:
        raise ConfigError(f"--batch must be at least 1, got {args.batch}")
    out_folder = None
    if args.out:
        out = Path(args.out)
        if out.is_dir() or not out.name:
            raise ConfigError(f"{args.out}: is a folder; --out names the list file to write, "
                              f"for example {out / 'suggestions.txt'}")
        # One file beside whatever else is there; only a list suggest wrote itself may be replaced.
        out_folder = OutputFolder(out.parent if str(out.parent) else Path("."), "suggest", overwrite=True)
        out_folder.check([out.name])
    project = Project.open(args.project)
    start = time.perf_counter()

    def progress(done, total):
        print(f"\rscoring {done}/{total}", end="", file=sys.stderr, flush=True)

    result = suggest(project, args.weights, n=args.n, seed=args.seed, strategy=args.strategy,
                     batch_size=args.batch, input_size=args.size, progress=progress)
    print("", file=sys.stderr)
    for problem in result.problems[:20]:
        print(f"skipped: {problem}", file=sys.stderr)
    for note in result.notes:
        print(note, file=sys.stderr)
    chosen = result.order[:args.n]
    print(f"{len(result.order)} unlabelled images ({result.scored_now} scored now, "
          f"{result.from_cache} from the cache) with {result.weights}, {time.perf_counter() - start:.1f} s")
    if out_folder is not None:
        from yolo_studio.core.atomic import atomic_write_text

        target = out_folder.path(Path(args.out).name)
        atomic_write_text(target, "".join(f"{s.image}\n" for s in chosen))
        out_folder.record(target)
        out_folder.close()
        print(f"{len(chosen)} suggestions written to {target}")
    else:
        for i, s in enumerate(chosen, 1):
            print(f"{i:4d}  {s.image}  uncertainty {s.uncertainty:.3f}  consistency {s.consistency:.3f}")
    return 0

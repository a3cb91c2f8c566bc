"""``yolo-studio demo DIR``: write a labelled demo project (coloured shapes, or digits) into DIR."""
from __future__ import annotations

import argparse
import time


def add_parser(sub, name: str) -> argparse.ArgumentParser:
    """Register the ``demo`` subcommand."""
    p = sub.add_parser(name, help="generate the labelled demo project into a new folder")
    p.add_argument("dir", help="folder to create (must be new or empty)")
    p.add_argument("--kind", choices=("shapes", "digits", "hard"), default="shapes",
                   help="shapes: 3 coloured shapes, quick to learn (default); digits: 10 digit "
                        "classes that look alike, a harder benchmark (written with flip off); "
                        "hard: 6 shape classes of every aspect ratio in clutter, occlusion and "
                        "uneven light")
    p.add_argument("--hard", action="store_true", help="the same as --kind hard")
    p.add_argument("--images", type=int, default=300, help="number of images (default 300)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same files")
    p.add_argument("--format", choices=("voc", "yolo"), default="voc",
                   help="label files: LabelImg VOC XML (default) or YOLO txt")
    p.add_argument("--min-size", type=int, default=256, help="smallest image side in pixels (default 256)")
    p.add_argument("--max-size", type=int, default=640, help="largest image side in pixels (default 640)")
    return p


def run(args) -> int:
    """Generate the project and say where it is."""
    from yolo_studio.core.demo import generate_demo_project
    from yolo_studio.core.project import Project

    start = time.perf_counter()
    if args.hard:
        if args.kind not in ("shapes", "hard"):
            from yolo_studio.core.errors import ConfigError
            raise ConfigError(f"--hard and --kind {args.kind} ask for two demos; pass one of them")
        args.kind = "hard"
    root = generate_demo_project(args.dir, n_images=args.images, seed=args.seed, min_size=args.min_size,
                                 max_size=args.max_size, label_format=args.format, kind=args.kind)
    project = Project.open(root)
    train, val = project.split()
    print(f"demo project written to {root}: {len(train) + len(val)} images "
          f"({len(train)} train, {len(val)} val), classes {', '.join(project.classes)}, "
          f"{args.format} labels, {time.perf_counter() - start:.1f} s")
    return 0

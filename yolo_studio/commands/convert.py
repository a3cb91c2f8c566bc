"""``yolo-studio convert --from FMT --to FMT SRC DST``: convert labels between formats.

voc and yolo are folders (labels next to images); coco is one .json file
(file names relative to --image-root, default the JSON's folder); pylessons is
a list .txt with its .names class file (default: same name, .names).
ultralytics (a data.yaml or its folder), voc-devkit (a VOC year folder or a
VOCdevkit) and coco-dataset (a folder with annotations/instances_*.json) are
the tools' own layouts, split kept; createml (one .json) and labelme (a
folder of .json) are read only. The formats are the registry's
(core/formats/registry.py).
"""
from __future__ import annotations

import argparse
from pathlib import Path

MAX_PROBLEMS_SHOWN = 50


def add_parser(sub, name: str) -> argparse.ArgumentParser:
    """Register the ``convert`` subcommand."""
    from yolo_studio.core.formats.registry import readable, writable
    p = sub.add_parser(name, help="convert labels between formats and dataset layouts",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="src_format", choices=readable(), required=True, help="format of SRC")
    p.add_argument("--to", dest="dst_format", choices=writable(), required=True, help="format to write")
    p.add_argument("src", help="source folder (voc, yolo, layouts) or file (coco .json, pylessons list .txt)")
    p.add_argument("dst", help="destination folder (voc, yolo, layouts) or file (coco .json, pylessons .txt)")
    p.add_argument("--image-root", help="coco: folder the JSON's file names are relative to "
                                        "(default: the JSON file's folder)")
    p.add_argument("--names", help="pylessons: the .names class file (default: the list's name + .names)")
    p.add_argument("--absolute-paths", action="store_true",
                   help="pylessons: write absolute image paths (default: relative to the list file)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace DST if it is an existing file; for a folder, write beside files convert "
                        "did not write (those are never replaced, and a project is never written into)")
    return p


def run(args) -> int:
    """Read SRC, write DST, print what was converted and every problem met."""
    from yolo_studio.core.errors import ConfigError
    from yolo_studio.core.formats.dataset import read_dataset, write_dataset

    src, dst = Path(args.src), Path(args.dst)
    if dst.exists() and dst.is_file() and not args.overwrite:
        raise ConfigError(f"{dst}: already exists; pass --overwrite to replace it")
    if args.src_format == args.dst_format and src.absolute() == dst.absolute():
        raise ConfigError(f"{dst}: source and destination are the same {args.src_format} dataset")
    src_root = args.image_root if args.src_format == "coco" else None
    ds = read_dataset(args.src_format, src, image_root=src_root,
                      names=args.names if args.src_format == "pylessons" else None)
    dst_root = args.image_root if args.dst_format == "coco" and args.src_format != "coco" else None
    written = write_dataset(args.dst_format, ds, dst, image_root=dst_root,
                            names=args.names if args.dst_format == "pylessons" else None,
                            absolute_paths=args.absolute_paths, overwrite=args.overwrite)
    problems = ds.problems + written.problems
    # Counted from what was written, not what was read: a summary must match the disk.
    print(f"converted {written.images} images, {written.boxes} boxes, {len(ds.class_names)} classes "
          f"({', '.join(ds.class_names)}) from {args.src_format} {src} to {args.dst_format} {dst}")
    for p in problems[:MAX_PROBLEMS_SHOWN]:
        print(f"  problem: {p}")
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(f"  ... and {len(problems) - MAX_PROBLEMS_SHOWN} more problems")
    if problems:
        print(f"{len(problems)} problem(s): the files, lines or boxes named above were skipped or fixed "
              "as said; nothing in the source was changed")
    return 0

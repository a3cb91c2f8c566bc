"""The one entry point: ``yolo-studio`` opens the GUI; subcommands run headless."""
from __future__ import annotations

import argparse
import importlib
import sys

from yolo_studio.commands import SUBCOMMANDS
from yolo_studio.core.errors import YoloStudioError


def _load(name: str):
    return importlib.import_module(f"yolo_studio.commands.{SUBCOMMANDS[name]}")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (imports each subcommand's module, not TensorFlow)."""
    parser = argparse.ArgumentParser(
        prog="yolo-studio",
        description="Label, fit anchors, train YOLOv3 and preview detections. "
                    "With no subcommand, opens the GUI on the demo project.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = _load(name)
        p = module.add_parser(sub, name)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else argv
    # `yolo-studio`, `yolo-studio PROJECT` and `yolo-studio --flag` open the GUI; a folder
    # named like a subcommand needs the explicit `yolo-studio gui NAME`.
    if not argv or argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help"):
        argv = ["gui", *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except YoloStudioError as e:
        print(f"yolo-studio {args.command}: error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        # A folder that is read-only, full or gone: name the file, not a traceback.
        where = e.filename or "a file"
        print(f"yolo-studio {args.command}: error: {where}: cannot be read or written "
              f"({e.strerror or e})", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

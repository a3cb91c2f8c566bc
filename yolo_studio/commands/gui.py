"""``yolo-studio [gui] [PROJECT]``: open the desktop app (the last project, else the demo project)."""
from __future__ import annotations

import argparse


def add_parser(sub, name: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help="open the GUI (default when no subcommand is given)")
    p.add_argument("project", nargs="?", help="project folder or image folder (default: the last one opened, "
                   "else the demo project)")
    return p


def run(args) -> int:
    from yolo_studio.gui.app import run_app
    return run_app(args.project)

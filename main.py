"""Thin launcher: ``python main.py`` does what ``yolo-studio`` does."""
import sys

from yolo_studio.cli import main

if __name__ == "__main__":
    sys.exit(main())

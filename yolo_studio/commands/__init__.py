"""One module per subcommand. Each exposes ``add_parser(subparsers)`` and ``run(args) -> int``.

Modules are imported lazily by cli.py so `yolo-studio convert` does not pay
for importing TensorFlow.
"""

# name -> module (relative to this package); help text lives in each module.
SUBCOMMANDS = {
    "gui": "gui",
    "demo": "demo",
    "convert": "convert",
    "anchors": "anchors",
    "train": "train",
    "eval": "evaluate",
    "detect": "detect",
    "export": "export",
    "suggest": "suggest",
}

"""``yolo-studio train PROJECT``: train YOLOv3 / tiny headless, with a one-line progress bar."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from yolo_studio.core.model_family import MODEL_NAMES


def add_parser(sub, name: str) -> argparse.ArgumentParser:
    """Register the ``train`` subcommand."""
    p = sub.add_parser(name, help="train a model on a project (or a pylessons train.txt list)",
                       description="Train YOLOv3 or YOLOv3-tiny. Ctrl+C stops after the current "
                                   "batch and saves a checkpoint; --resume continues it.")
    p.add_argument("project", help="project folder, image folder, or pylessons train list (.txt)")
    p.add_argument("--val", help="pylessons validation list (with a .txt PROJECT)")
    p.add_argument("--names", help="class names file (with a .txt PROJECT; default: <list>.names)")
    p.add_argument("--model", choices=MODEL_NAMES, help="default yolov3-tiny")
    p.add_argument("--size", type=int, help="input size, a multiple of 32 (default 416)")
    p.add_argument("--epochs", type=int, help="default 30")
    p.add_argument("--batch", type=int, help="batch size (default 8)")
    p.add_argument("--lr", type=float, help="initial learning rate after warmup (default 1e-3)")
    p.add_argument("--lr-end", type=float, help="final learning rate (default 1e-5)")
    p.add_argument("--warmup", type=float, help="warmup epochs (default 2)")
    p.add_argument("--weight-decay", type=float, help="AdamW weight decay (default 0: Adam)")
    p.add_argument("--weights", help="darknet .weights to start from (transfer learning)")
    p.add_argument("--freeze", type=int, help="freeze the backbone for the first N epochs")
    p.add_argument("--resume", action="store_true", help="continue the latest (or --run-dir) run")
    p.add_argument("--retrain", action="store_true",
                   help="new run starting from the project's latest weights (after more labelling)")
    p.add_argument("--precision", choices=("auto", "float32", "bfloat16", "float16"),
                   help="compute precision; auto (default): float16 with loss scaling on a GPU, "
                        "bfloat16 on a CPU with AVX-512-BF16/AMX, else float32")
    p.add_argument("--mixed-precision", dest="precision", action="store_const", const="mixed",
                   help="older name: bfloat16 on a CPU, float16 on a GPU")
    p.add_argument("--xla", action="store_true", help="compile the train step with XLA")
    p.add_argument("--multiscale", action="store_true", help="vary the input size per batch")
    p.add_argument("--no-augment", action="store_true", help="train on the images as they are")
    _add_recipe_flags(p)
    p.add_argument("--map-every", type=int, help="validation mAP every N epochs (default 1)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--run-dir", help="run folder (default runs/<time>-<model> in the project)")
    return p


def _add_recipe_flags(p) -> None:
    """The training recipe (see the README's "Training recipe" table for what each is worth)."""
    g = p.add_argument_group("recipe")
    g.add_argument("--assignment", choices=("best", "multi"),
                   help="anchors per truth box: the best one, or also every anchor with IoU > 0.3 "
                        "on each scale (default multi)")
    g.add_argument("--label-smoothing", type=float, help="class label smoothing (default 0)")
    g.add_argument("--conv-init", choices=("normal", "keras"),
                   help="from-scratch kernels: N(0, 0.01) or Keras' glorot (default normal)")
    g.add_argument("--bn-momentum", type=float,
                   help="batch-norm momentum; 0 fits it to the epoch length (default 0)")
    g.add_argument("--no-prior-bias", action="store_true",
                   help="start objectness/class biases at 0 instead of from a prior")
    g.add_argument("--ema", type=float, metavar="DECAY",
                   help="evaluate and save an EMA of the weights; 0 turns it off (default 0.999)")
    g.add_argument("--lr-reference-batch", type=int, metavar="N",
                   help="--lr is for batch N; scale it linearly to --batch (default 0: off)")
    flip = g.add_mutually_exclusive_group()
    flip.add_argument("--hflip", dest="hflip", action="store_true", default=None,
                      help="mirror images left-right when augmenting (classes that look the "
                           "same mirrored)")
    flip.add_argument("--no-hflip", dest="hflip", action="store_false",
                      help="never mirror (digits, text, arrows); default: the project's own setting")


def build_config(args, project):
    """The TrainConfig from the project's last settings, overridden by the given flags."""
    from yolo_studio.core.errors import ConfigError
    from yolo_studio.core.training.preflight import config_from_dict
    from yolo_studio.core.training.device import legacy_precision

    flags = {"model": args.model, "input_size": args.size, "epochs": args.epochs,
             "batch_size": args.batch, "lr_init": args.lr, "lr_end": args.lr_end,
             "warmup_epochs": args.warmup, "weight_decay": args.weight_decay,
             "freeze_backbone_epochs": args.freeze, "map_every": args.map_every, "seed": args.seed,
             "assignment": args.assignment, "label_smoothing": args.label_smoothing,
             "conv_init": args.conv_init, "bn_momentum": args.bn_momentum, "ema_decay": args.ema,
             "lr_reference_batch": args.lr_reference_batch, "hflip": args.hflip,
             "prior_bias": False if args.no_prior_bias else None}
    if args.resume and args.epochs is None:
        # A resumed run keeps its own epoch count (and so its LR schedule) unless told otherwise.
        flags["epochs"] = _run_epochs(project, args.run_dir)
    # Hand-edited values fail here, naming the file and the key, not deep inside training
    # (also one a flag replaces this time: the file is still broken for the next run).
    settings = project.train_settings or {}
    where = f"train_settings in {project.project_file}"
    base = config_from_dict(settings, where)
    config = replace(base, **{k: v for k, v in flags.items() if v is not None})
    if args.weights and args.retrain:
        raise ConfigError("--weights and --retrain are two different starting points; pick one")
    if args.weights:
        config = replace(config, start_from="darknet", darknet_weights=args.weights)
    elif args.retrain:
        config = replace(config, start_from="last", darknet_weights=None)
    elif config.start_from != "scratch":
        config = replace(config, start_from="scratch", darknet_weights=None)
    if args.precision:
        precision = legacy_precision(True) if args.precision == "mixed" else args.precision
        config = replace(config, precision=precision)
    if not args.resume:
        # Learning rate, warmup, freezing and batch-norm momentum follow the start (scratch or
        # darknet weights) unless a flag set them: core/training/start_defaults.py decides.
        from yolo_studio.core.training.start_defaults import with_start_defaults
        config = with_start_defaults(config, keep={k for k, v in flags.items() if v is not None})
    return replace(config, xla=args.xla or config.xla, multiscale=args.multiscale or config.multiscale,
                   augment=config.augment and not args.no_augment)


def _run_epochs(project, run_dir) -> int | None:
    """The epoch count stored in the run ``--resume`` will continue (None if there is none)."""
    from yolo_studio.core.training import runs
    from yolo_studio.core.training.preflight import config_from_dict

    found = Path(run_dir) if run_dir else runs.latest_resumable(project)
    stored = runs.read_config(found) if found is not None else {}
    if not stored:
        return None     # the Trainer says there is nothing to resume
    return config_from_dict(stored, str(found / runs.CONFIG_FILE)).epochs


def run(args) -> int:
    """Train until done or Ctrl+C; print a summary. Exit 0 finished, 1 failed, 130 stopped."""
    from yolo_studio.core.training.list_project import ListProject, open_training_source
    from yolo_studio.core.training.trainer import Trainer

    project = open_training_source(args.project, args.names, args.val)
    # Problems reading a list file; a project folder's label problems are said by the trainer.
    for problem in (project.problems if isinstance(project, ListProject) else [])[:20]:
        print(f"warning: {problem}", file=sys.stderr)
    config = build_config(args, project)
    bn = f"{config.bn_momentum:g}" if config.bn_momentum else "fitted to the epoch"
    print(f"from {config.start_from}: learning rate {config.lr_init:g} -> {config.lr_end:g}, warmup "
          f"{config.warmup_epochs:g} epochs, backbone frozen for {config.freeze_backbone_epochs} "
          f"epochs, batch-norm momentum {bn}")
    from yolo_studio.core.project_checks import project_warnings
    for note in project_warnings(project, config.model):
        print(f"warning: {note}", file=sys.stderr)
    listener = ConsoleListener(sys.stdout)
    trainer = Trainer(project, config, listener, run_dir=args.run_dir, resume=args.resume)
    stop = threading.Event()
    previous = _install_sigint(stop, listener)
    try:
        end = trainer.run(stop)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)
    listener.summary(end)
    return {"finished": 0, "stopped": 130}.get(end.reason, 1)


def _install_sigint(stop: threading.Event, listener):
    """First Ctrl+C: stop after this batch with a checkpoint; second: abort at once."""
    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        listener.note("stopping after this batch (Ctrl+C again to abort without saving)")

    try:
        return signal.signal(signal.SIGINT, handler)
    except ValueError:       # not the main thread: no signal handling possible
        return signal.getsignal(signal.SIGINT)



def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class ConsoleListener:
    """Prints the trainer's reports: a live one-line bar on a terminal, plain lines otherwise."""

    BAR = 20
    PLAIN_EVERY = 10     # steps between lines when not on a terminal

    def __init__(self, stream):
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._bar_shown = False
        self._t0 = time.monotonic()

    def _line(self, text: str) -> None:
        if self._bar_shown:
            self.stream.write("\r\033[K")
            self._bar_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line from the command itself (e.g. Ctrl+C acknowledged)."""
        self._line(text)

    def on_message(self, text: str) -> None:
        self._line(text)

    def on_batch(self, r) -> None:
        in_epoch = r.step - r.epoch * r.steps_per_epoch
        losses = f"box {r.box_loss:.3f} obj {r.obj_loss:.3f} cls {r.cls_loss:.3f}"
        tail = f"lr {r.lr:.2e} {r.images_per_sec:.1f} img/s ETA {_clock(r.eta_seconds)}"
        if self.tty:
            done = int(self.BAR * in_epoch / max(r.steps_per_epoch, 1))
            bar = "#" * done + "-" * (self.BAR - done)
            self.stream.write(f"\r\033[Kepoch {r.epoch + 1} [{bar}] {in_epoch}/{r.steps_per_epoch} "
                              f"{losses} {tail}")
            self.stream.flush()
            self._bar_shown = True
        elif r.step % self.PLAIN_EVERY == 0 or in_epoch == r.steps_per_epoch:
            self._line(f"step {r.step}/{r.total_steps} epoch {r.epoch + 1} {losses} {tail}")

    def on_epoch(self, r) -> None:
        maps = (f", mAP@0.5 {r.map50:.4f}, mAP@[.5:.95] {r.map50_95:.4f}"
                if r.map50 is not None else "")
        self._line(f"epoch {r.epoch + 1}/{r.epochs}: train loss {r.train_loss:.3f}, val loss "
                   f"{r.val_total_loss:.3f} (box {r.val_box_loss:.3f} obj {r.val_obj_loss:.3f} "
                   f"cls {r.val_cls_loss:.3f}){maps}{' (best)' if r.best else ''}, {r.seconds:.1f}s")

    def on_end(self, r) -> None:
        pass   # summary() prints it, after the signal handler is gone

    def summary(self, r) -> None:
        """The final lines: why it ended, where the weights are."""
        self._line(f"{r.reason}: {r.message}")
        if r.best_map50 is not None:
            self._line(f"best mAP@0.5: {r.best_map50:.4f}")
        for name, path in (("best", r.best_checkpoint), ("last", r.last_checkpoint)):
            if path:
                self._line(f"{name} weights: {path}.weights.h5")
        if r.skipped:
            self._line(f"{len(r.skipped)} file(s) were skipped (see the messages above)")
        self._line(f"run folder: {r.run_dir} ({_clock(time.monotonic() - self._t0)} in all)")

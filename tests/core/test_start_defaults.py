"""Defaults that follow a run's start (scratch vs darknet weights), in the CLI's resolution."""
from __future__ import annotations

import argparse
from types import SimpleNamespace

import pytest

from yolo_studio.commands import train as train_cmd
from yolo_studio.core.training import start_defaults
from yolo_studio.core.training.events import TrainConfig
from yolo_studio.core.training.start_defaults import SCRATCH, with_start_defaults

# Transfer defaults unlike today's measured ones (the same as from scratch), so these
# tests see the CLI follow whatever start_defaults.TRANSFER says.
TRANSFER = {**SCRATCH, "lr_init": 1e-4, "lr_end": 1e-6, "warmup_epochs": 1.0,
            "freeze_backbone_epochs": 2, "bn_momentum": 0.99}


@pytest.fixture(autouse=True)
def _other_transfer_defaults(monkeypatch):
    monkeypatch.setattr(start_defaults, "TRANSFER", TRANSFER)


def _cli_config(argv, settings=None):
    parser = argparse.ArgumentParser()
    train_cmd.add_parser(parser.add_subparsers(dest="cmd"), "train")
    args = parser.parse_args(["train", "proj", *argv])
    project = SimpleNamespace(train_settings=settings or {}, project_file="proj/yolo_studio.json")
    return train_cmd.build_config(args, project)


def test_scratch_defaults_are_trainconfigs_own():
    assert all(getattr(TrainConfig(), k) == v for k, v in SCRATCH.items())
    assert with_start_defaults(TrainConfig()) == TrainConfig()


def test_weights_flag_brings_the_transfer_defaults_unless_a_flag_sets_one():
    cfg = _cli_config(["--weights", "w.weights"])
    assert cfg.start_from == "darknet"
    assert {k: getattr(cfg, k) for k in TRANSFER} == pytest.approx(TRANSFER)
    cfg = _cli_config(["--weights", "w.weights", "--warmup", "2", "--lr", "5e-4", "--freeze", "3"])
    assert (cfg.warmup_epochs, cfg.lr_init, cfg.freeze_backbone_epochs) == (2.0, 5e-4, 3)
    assert cfg.bn_momentum == TRANSFER["bn_momentum"]


def test_saved_settings_move_with_the_start_only_where_they_are_the_other_starts_default():
    # a project whose last run was from scratch with the defaults, then with its own warmup
    saved = TrainConfig().to_dict()
    assert _cli_config(["--weights", "w.weights"], saved).warmup_epochs == TRANSFER["warmup_epochs"]
    own = _cli_config(["--weights", "w.weights"], {**saved, "warmup_epochs": 3.0})
    assert own.warmup_epochs == 3.0
    # and back: a darknet run's saved settings do not carry its warmup into a scratch run
    cfg = _cli_config(["--weights", "w.weights"], saved)
    back = _cli_config([], cfg.to_dict())
    assert back.start_from == "scratch" and back.warmup_epochs == SCRATCH["warmup_epochs"]

"""GUI tests: the class prompt after drawing is off unless a test turns it on.

Most tests draw to test something else and would block on the modal prompt;
tests/gui/test_labeller_first_hour.py turns it on to test the prompt itself.
"""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_class_prompt(_isolated_home):
    from yolo_studio.gui.labeller.label_prompt import set_asks_after_drawing

    set_asks_after_drawing(False)

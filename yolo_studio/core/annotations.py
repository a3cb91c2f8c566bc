"""The one in-memory model of labels: plain Python, no Qt, no TensorFlow."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Box:
    """One labelled object, in pixel xyxy floats of its image."""

    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    difficult: bool = False
    # Boxes written by a model (pre-labels) stay 'predicted' until a person
    # accepts or edits them; score is the model's confidence, kept for display.
    predicted: bool = False
    score: float | None = None
    # Where the box came from in a file that holds more than boxes (the VOC
    # <object> index, the COCO annotation id), so a save edits that entry in
    # place and keeps what YOLO Studio does not model. Not part of equality.
    ref: object = field(default=None, compare=False, repr=False)

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    def xyxy(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def moved(self, **changes) -> "Box":
        """A copy with some fields changed (Box is immutable so undo stays simple)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class HiddenBox:
    """A box in a label file that cannot be shown or trained on (swapped corners, zero size,
    wholly outside, a refused class name). It is kept: saves write it back exactly as read."""

    raw: str          # the YOLO line, or the VOC <object> element's XML, as it was on disk
    problem: str      # why it is hidden, in words for the labeller's banner
    label: str = ""   # its class name, when known


@dataclass
class ImageAnnotation:
    """All boxes of one image, plus the image's size and the verified flag.

    ``hidden`` holds boxes the file has but that cannot be used (kept on disk
    through saves; training skips them); ``notes`` says what the reader found
    wrong with the file (for the labeller's banner).
    """

    image_path: Path
    width: int
    height: int
    boxes: list[Box] = field(default_factory=list)
    verified: bool = False
    hidden: list[HiddenBox] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.image_path, Path):   # Path(a Path) re-parses it: 5 s over COCO's 118k images
            self.image_path = Path(self.image_path)

    @property
    def awaiting_review(self) -> bool:
        """True while a model's pre-labels here wait for a person: not verified, and a box
        still 'predicted'. Such an image is not ground truth yet: training and evaluation
        leave it out (its guesses are not truth, and leaving out a pre-label alone would turn
        the object it marks into background)."""
        return not self.verified and any(b.predicted for b in self.boxes)

    def boxes_array(self) -> np.ndarray:
        """Boxes as a float (N, 4) xyxy array."""
        if not self.boxes:
            return np.zeros((0, 4), dtype=np.float64)
        return np.array([b.xyxy() for b in self.boxes], dtype=np.float64)

    def labels(self) -> list[str]:
        return [b.label for b in self.boxes]

    def class_ids(self, class_names: list[str]) -> np.ndarray:
        """Class indices of the boxes; raises KeyError naming an unknown class."""
        index = {n: i for i, n in enumerate(class_names)}
        return np.array([index[b.label] for b in self.boxes], dtype=np.int64)

    def copy(self) -> "ImageAnnotation":
        return ImageAnnotation(self.image_path, self.width, self.height,
                               list(self.boxes), self.verified, list(self.hidden), list(self.notes))


@dataclass(frozen=True)
class Detection:
    """A model's detection in the original image's pixels."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    class_id: int
    label: str

    def to_box(self) -> Box:
        """A pre-label box (predicted=True) for the labeller."""
        return Box(self.x1, self.y1, self.x2, self.y2, self.label, predicted=True, score=self.score)


def awaiting_review_note(paths, use: str = "train on") -> str:
    """What a run says about images left out because their pre-labels wait for a person."""
    n = len(paths)
    return (f"left out {n} image{'s' if n != 1 else ''} whose pre-labels nobody has accepted yet "
            f"(e.g. {Path(paths[0]).name}): a model's guesses are not ground truth; accept or "
            f"correct them in the Label tab, or mark the image verified, to {use} "
            f"{'them' if n != 1 else 'it'}")

"""Generate darknet .cfg text for our yolov3 / yolov3-tiny with given classes and anchors."""
from __future__ import annotations

from .darknet53 import STAGES

_NET = """[net]
# Testing
batch=1
subdivisions=1
width={size}
height={size}
channels=3
momentum=0.9
decay=0.0005
angle=0
saturation=1.5
exposure=1.5
hue=.1
learning_rate=0.001
burn_in=1000
max_batches=500200
policy=steps
steps=400000,450000
scales=.1,.1
"""


def _conv(filters: int, size: int, stride: int = 1, bn: bool = True, activation: str = "leaky") -> str:
    bn_line = "batch_normalize=1\n" if bn else ""
    return (f"\n[convolutional]\n{bn_line}filters={filters}\nsize={size}\nstride={stride}\n"
            f"pad=1\nactivation={activation}\n")


def _yolo(mask: list[int], anchors_flat: str, classes: int, num: int) -> str:
    return (f"\n[yolo]\nmask={','.join(map(str, mask))}\nanchors={anchors_flat}\n"
            f"classes={classes}\nnum={num}\njitter=.3\nignore_thresh=.7\ntruth_thresh=1\nrandom=1\n")


def _anchor_masks(anchors) -> tuple[str, list[list[int]]]:
    """Flattened anchors (stride ascending, as darknet sorts them) and each scale's mask."""
    flat, masks, k = [], [], 0
    for scale in anchors:
        masks.append(list(range(k, k + len(scale))))
        k += len(scale)
        flat += [f"{float(w):g},{float(h):g}" for w, h in scale]
    return ",  ".join(flat), masks


def cfg_text(model: str, num_classes: int, anchors, input_size: int) -> str:
    """The .cfg darknet (and OpenCV) needs to run our ``model``."""
    return (_yolov3_tiny if model == "yolov3-tiny" else _yolov3)(num_classes, anchors, input_size)


def _yolov3(num_classes: int, anchors, size: int) -> str:
    flat, masks = _anchor_masks(anchors)
    num = sum(len(s) for s in anchors)
    out = 3 * (5 + num_classes)
    parts = [_NET.format(size=size), _conv(32, 3)]
    for filters, blocks in STAGES:
        parts.append(_conv(filters, 3, 2))
        for _ in range(blocks):
            parts += [_conv(filters // 2, 1), _conv(filters, 3),
                      "\n[shortcut]\nfrom=-3\nactivation=linear\n"]
    # Heads in cfg order: stride 32 (route from 61 / 36 are the backbone's stride-16/8 ends).
    for filters, route, mask in ((512, None, masks[2]), (256, 61, masks[1]), (128, 36, masks[0])):
        if route is not None:
            parts += ["\n[route]\nlayers = -4\n", _conv(filters, 1),
                      "\n[upsample]\nstride=2\n", f"\n[route]\nlayers = -1, {route}\n"]
        for k in range(5):
            parts.append(_conv(filters, 1) if k % 2 == 0 else _conv(filters * 2, 3))
        parts += [_conv(filters * 2, 3), _conv(out, 1, bn=False, activation="linear"),
                  _yolo(mask, flat, num_classes, num)]
    return "".join(parts)


def _yolov3_tiny(num_classes: int, anchors, size: int) -> str:
    flat, masks = _anchor_masks(anchors)
    num = sum(len(s) for s in anchors)
    out = 3 * (5 + num_classes)
    parts = [_NET.format(size=size)]
    for filters in (16, 32, 64, 128, 256):
        parts += [_conv(filters, 3), "\n[maxpool]\nsize=2\nstride=2\n"]
    parts += [_conv(512, 3), "\n[maxpool]\nsize=2\nstride=1\n", _conv(1024, 3),
              _conv(256, 1), _conv(512, 3), _conv(out, 1, bn=False, activation="linear"),
              _yolo(masks[1], flat, num_classes, num),
              "\n[route]\nlayers = -4\n", _conv(128, 1), "\n[upsample]\nstride=2\n",
              "\n[route]\nlayers = -1, 8\n", _conv(256, 3),
              _conv(out, 1, bn=False, activation="linear"), _yolo(masks[0], flat, num_classes, num)]
    return "".join(parts)

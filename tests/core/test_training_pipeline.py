"""The tf.data pipeline: valid boxes after augmentation, replayable epochs, and a learning step."""
from __future__ import annotations

import numpy as np
import pytest

from yolo_studio.core.boxes import letterbox_boxes, letterbox_params
from yolo_studio.core.model_family import FAMILIES
from yolo_studio.core.project import Project
from yolo_studio.core.training.pipeline import DataSource, Sample, load_samples

YOLOV3_TINY_ANCHORS = FAMILIES["yolov3-tiny"].default_anchors

STRIDES = [16, 32]


@pytest.fixture(scope="module")
def source_parts(tmp_path_factory):
    from yolo_studio.core.demo import generate_demo_project

    root = tmp_path_factory.mktemp("pipe") / "demo"
    generate_demo_project(root, n_images=16, seed=2, min_size=80, max_size=160)
    project = Project.open(root)
    samples, problems = load_samples(project, project.image_paths(), project.classes)
    assert not problems
    return samples, len(project.classes)


def _positives(grids):
    """(cx, cy, w, h, class) of every positive cell in one image's grids."""
    out = []
    for g in grids:
        cells = g[g[..., 4] > 0]
        out += [(*c[:4], int(np.argmax(c[5:]))) for c in cells]
    return sorted(out)


def test_plain_batches_hold_the_letterboxed_label_boxes(source_parts):
    samples, n_classes = source_parts
    src = DataSource(samples, n_classes, 96, YOLOV3_TINY_ANCHORS, STRIDES)
    images, targets, truth, meta = next(iter(src.dataset(0, 4, train=False)))
    assert images.shape == (4, 96, 96, 3) and images.dtype.name == "float32"
    assert 0.0 <= float(np.min(images)) and float(np.max(images)) <= 1.0
    assert [t.shape[1:3] for t in targets] == [(6, 6), (3, 3)]
    for i in range(4):
        s = samples[int(meta[i, 5])]
        w, h = int(meta[i, 3]), int(meta[i, 4])
        expected = letterbox_boxes(s.boxes, letterbox_params(w, h, 96))
        np.testing.assert_allclose(truth[i, :len(s.boxes)].numpy(), expected, atol=1e-3)
        got = _positives([t[i].numpy() for t in targets])
        assert len(got) == len(s.boxes)
        want = sorted((*((e[:2] + e[2:]) / 2), *(e[2:] - e[:2]), int(c))
                      for e, c in zip(expected, s.classes))
        np.testing.assert_allclose(np.array(got), np.array(want), atol=1e-3)


def test_augmented_boxes_stay_inside_the_image_and_epochs_replay(source_parts):
    samples, n_classes = source_parts
    src = DataSource(samples, n_classes, 96, YOLOV3_TINY_ANCHORS, STRIDES, augment=True, seed=5)
    first = list(src.dataset(1, 4, train=True))
    again = list(src.dataset(1, 4, train=True))
    other = list(src.dataset(2, 4, train=True))
    assert len(first) == len(samples) // 4
    for a, b in zip(first, again):           # same epoch, same pixels and targets
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
        np.testing.assert_array_equal(a[2].numpy(), b[2].numpy())
    assert not np.array_equal(first[0][0].numpy(), other[0][0].numpy())
    n_boxes = 0
    for images, targets, truth, meta in first:
        t = truth.numpy()
        real = t[(t[:, :, 2] - t[:, :, 0]) > 0]
        assert (real >= -1e-3).all() and (real <= 96 + 1e-3).all()
        assert (real[:, 2] > real[:, 0]).all() and (real[:, 3] > real[:, 1]).all()
        n_boxes += len(real)
        positives = sum(int(g.numpy()[..., 4].sum()) for g in targets)
        assert positives == len(real)        # every kept box is some anchor's positive
    assert n_boxes > 0


def test_resuming_mid_epoch_yields_the_remaining_batches(source_parts):
    samples, n_classes = source_parts
    src = DataSource(samples, n_classes, 64, YOLOV3_TINY_ANCHORS, STRIDES, augment=True, seed=1)
    full = [b[3].numpy()[:, 5] for b in src.dataset(3, 4, train=True)]
    tail = [b[3].numpy()[:, 5] for b in src.dataset(3, 4, train=True, start_batch=2)]
    assert len(tail) == len(full) - 2
    for a, b in zip(full[2:], tail):
        np.testing.assert_array_equal(a, b)


def test_multiscale_batches_change_size_together_with_their_grids(source_parts):
    samples, n_classes = source_parts
    src = DataSource(samples, n_classes, 128, YOLOV3_TINY_ANCHORS, STRIDES, augment=True,
                     multiscale=True, seed=0)
    sizes = set()
    for images, targets, _, _ in src.dataset(0, 2, train=True):
        s = images.shape[1]
        sizes.add(s)
        assert s % 32 == 0 and [t.shape[1] for t in targets] == [s // 16, s // 32]
    assert len(sizes) > 1


def test_undecodable_image_is_replaced_and_listed(source_parts, tmp_path):
    samples, n_classes = source_parts
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8 nothing here")
    mixed = [Sample(str(broken), samples[0].boxes, samples[0].classes)] + samples[1:4]
    src = DataSource(mixed, n_classes, 64, YOLOV3_TINY_ANCHORS, STRIDES)
    batches = list(src.dataset(0, 4, train=False))
    assert sum(len(b[0]) for b in batches) == 4       # the batch is still full
    assert str(broken) in src.bad_images


def test_a_few_steps_lower_the_loss_on_a_fixed_batch(source_parts):
    import keras
    import tensorflow as tf

    from yolo_studio.core.model import build_model
    from yolo_studio.core.training.steps import make_train_step

    samples, n_classes = source_parts
    src = DataSource(samples, n_classes, 64, YOLOV3_TINY_ANCHORS, STRIDES)
    images, targets, truth, _ = next(iter(src.dataset(0, 4, train=True)))
    keras.utils.set_random_seed(0)
    model = build_model("yolov3-tiny", n_classes, 64)
    opt = keras.optimizers.Adam(1e-3)
    step = make_train_step(tf.distribute.get_strategy(), model, opt, model.trainable_variables,
                           YOLOV3_TINY_ANCHORS, STRIDES, 4)
    losses = [step(images, targets, truth).numpy() for _ in range(20)]
    first, last = losses[0], losses[-1]
    assert last.sum() < 0.5 * first.sum()
    assert last[0] < first[0] and last[1] < first[1] and last[2] < first[2]   # every part learns


def test_recipe_target_options_reach_the_batches(source_parts):
    """Multi-anchor assignment and label smoothing shape what the model is trained towards."""
    samples, n_classes = source_parts
    counts, cells = {}, {}
    for name, options in (("best", {}),
                          ("multi", {"assignment": "multi", "assign_iou": 0.3,
                                     "label_smoothing": 0.1})):
        src = DataSource(samples, n_classes, 96, YOLOV3_TINY_ANCHORS, STRIDES,
                         target_options=options)
        _, targets, _, meta = next(iter(src.dataset(0, 8, train=False)))
        positives = [t.numpy()[t.numpy()[..., 4] > 0] for t in targets]
        counts[name] = sum(len(p) for p in positives)
        cells[name] = np.concatenate(positives)[:, 5:]
    boxes = sum(len(samples[i].boxes) for i in range(8))
    assert counts["best"] == boxes and counts["multi"] > boxes      # extra anchors own boxes
    np.testing.assert_array_equal(np.unique(cells["best"]), [0.0, 1.0])
    smoothed = np.unique(cells["multi"])
    np.testing.assert_allclose(smoothed, [0.1 / n_classes, 0.9 + 0.1 / n_classes], rtol=1e-5)

"""Anchor fitting: clusters recovered, determinism, hand-computed metrics, degenerate data."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from yolo_studio.core import anchors as A
from yolo_studio.core.annotations import Box, ImageAnnotation
from yolo_studio.core.model_family import FAMILIES
from yolo_studio.core.errors import ConfigError

YOLOV3_ANCHORS = FAMILIES["yolov3"].default_anchors

TRUE_SIZES = np.array([[8, 10], [14, 30], [30, 16], [40, 40], [30, 80], [90, 45],
                       [110, 110], [90, 220], [260, 180]], dtype=float)


def clustered(n_per: int = 200, spread: float = 0.05, seed: int = 0) -> np.ndarray:
    """Boxes tightly spread (multiplicatively) around TRUE_SIZES."""
    rng = np.random.default_rng(seed)
    wh = np.repeat(TRUE_SIZES, n_per, axis=0)
    return wh * np.exp(rng.normal(0, spread, size=wh.shape))


def test_known_clusters_are_recovered_sorted_by_area():
    fitted = A.fit_anchors(clustered(), 9, seed=3)
    expected = A.sort_by_area(TRUE_SIZES)
    assert fitted.shape == (9, 2)
    np.testing.assert_allclose(fitted, expected, rtol=0.06)
    areas = fitted[:, 0] * fitted[:, 1]
    assert np.all(np.diff(areas) > 0)


def test_subsampled_path_on_many_boxes_still_recovers_clusters():
    wh = clustered(n_per=2500, spread=0.08, seed=1)   # > SAMPLE_SIZE boxes: sample, then full polish
    assert len(wh) > A.SAMPLE_SIZE
    fitted = A.fit_anchors(wh, 9, seed=0, generations=200)
    np.testing.assert_allclose(fitted, A.sort_by_area(TRUE_SIZES), rtol=0.08)


def test_same_seed_same_anchors_and_fit_beats_coco_defaults():
    wh = clustered(n_per=60, spread=0.3, seed=5)
    a = A.fit_anchors(wh, 9, seed=11, generations=300)
    b = A.fit_anchors(wh, 9, seed=11, generations=300)
    np.testing.assert_array_equal(a, b)
    coco = A.flatten_anchors(YOLOV3_ANCHORS)
    assert A.fit_metrics(wh, a).mean_iou > A.fit_metrics(wh, coco).mean_iou + 0.05


def test_genetic_step_never_lowers_the_mean_iou():
    wh = clustered(n_per=80, spread=0.4, seed=2)
    plain = A.fit_anchors(wh, 9, seed=4, genetic=False)
    evolved = A.fit_anchors(wh, 9, seed=4, genetic=True, generations=300)
    assert A.mean_best_iou(wh, evolved) >= A.mean_best_iou(wh, plain)


def test_metrics_on_hand_computed_case():
    wh = [(10, 10), (20, 40), (100, 10)]
    anchors = [(10, 10), (20, 20)]
    m = A.fit_metrics(wh, anchors)
    # best IoUs: 1, 400/800, (20*10)/(1000+400-200) = 1/6
    assert m.mean_iou == pytest.approx((1 + 0.5 + 1 / 6) / 3, abs=1e-6)
    # worst side ratio of the best anchor: 1, 0.5, 0.2 -> the last is beyond 1/4
    assert m.bpr == pytest.approx(2 / 3)
    # anchors within ratio 4: box 1 both, box 2 only (20,20) ((10,10) is exactly 4x, not within), box 3 none
    assert m.anchors_above == pytest.approx(1.0)
    assert m.iou_above_half == pytest.approx(1 / 3)
    assert m.n_boxes == 3


def test_box_sizes_are_letterboxed_like_training():
    wide = ImageAnnotation(Path("wide.jpg"), 800, 400, [Box(0, 0, 100, 50, "a"), Box(10, 10, 10, 30, "a")])
    tall = ImageAnnotation(Path("tall.jpg"), 300, 600, [Box(5, 5, 65, 125, "b")])
    empty = ImageAnnotation(Path("empty.jpg"), 640, 480, [])
    sizes = A.collect_box_sizes([wide, tall, empty], 416)
    np.testing.assert_allclose(sizes.wh, [[52, 26], [60 * 416 / 600, 120 * 416 / 600]], rtol=1e-6)
    assert sizes.refs == [(Path("wide.jpg"), 0), (Path("tall.jpg"), 0)]
    # the zero-width box is reported by image, not silently dropped
    assert len(sizes.skipped) == 1 and "wide.jpg" in str(sizes.skipped[0])
    assert "zero" in sizes.skipped[0].message


@pytest.mark.parametrize("size", [0, -416, 100, 416.0])
def test_bad_input_size_names_the_setting(size):
    with pytest.raises(ConfigError, match="input size"):
        A.collect_box_sizes([], size)


def test_no_boxes_gives_a_clear_error():
    with pytest.raises(ConfigError, match="no labelled boxes"):
        A.fit_anchors(np.zeros((0, 2)), 9)


def test_only_zero_size_boxes_gives_a_clear_error():
    with pytest.raises(ConfigError, match="zero width or height"):
        A.fit_anchors([(0, 5), (4, 0), (0, 0)], 2)


def test_fewer_distinct_sizes_than_k_names_k():
    wh = [(10, 10)] * 50 + [(20, 30)] * 50
    with pytest.raises(ConfigError, match=r"k=3 .* 2 distinct"):
        A.fit_anchors(wh, 3)


def test_exactly_k_distinct_sizes_with_zero_size_noise_gives_those_sizes():
    wh = np.array([(10, 10)] * 20 + [(20, 30)] * 20 + [(60, 50)] * 5 + [(0, 12), (np.nan, 3)])
    fitted = A.fit_anchors(wh, 3, seed=0)
    assert np.isfinite(fitted).all()
    np.testing.assert_allclose(fitted, [(10, 10), (20, 30), (60, 50)], rtol=1e-5)


@pytest.mark.parametrize("k", [0, -1, 2.5, True])
def test_bad_k_is_refused(k):
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        A.fit_anchors(clustered(5), k)


def test_metrics_refuse_empty_data_and_bad_anchors():
    with pytest.raises(ConfigError, match="no boxes"):
        A.fit_metrics(np.zeros((0, 2)), [(10, 10)])
    with pytest.raises(ConfigError, match="anchors must be positive"):
        A.fit_metrics([(10, 10)], [(10, 0)])


def test_stop_event_cancels_and_progress_reaches_one():
    stop = threading.Event()
    stop.set()
    with pytest.raises(A.FitCancelled):
        A.fit_anchors(clustered(20), 9, stop=stop)
    seen: list[float] = []
    A.fit_anchors(clustered(20), 9, generations=100, progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)


def test_assign_clusters_follows_best_iou():
    labels = A.assign_clusters([(10, 10), (100, 100), (12, 9)], [(100, 90), (11, 10)])
    assert labels.tolist() == [1, 0, 1]


def test_a_size_seen_once_among_many_boxes_still_gets_its_anchor():
    # the subsample used for restarts will likely miss the single box; the full-data polish must not
    rng = np.random.default_rng(0)
    common = np.array([[10, 10], [20, 20], [30, 60], [60, 30], [80, 80], [120, 200], [200, 120], [300, 300]])
    wh = np.concatenate([common[rng.integers(8, size=3 * A.SAMPLE_SIZE)], [[5, 40]]])
    fitted = A.fit_anchors(wh, 9, seed=0, generations=0)
    assert any(np.allclose(a, (5, 40)) for a in fitted)
    assert A.fit_metrics(wh, fitted).mean_iou == pytest.approx(1.0)


def test_darknet_line_lists_whole_pixel_pairs_by_area():
    assert A.darknet_line([(33.4, 23.6), (10.2, 12.8)]) == "anchors = 10,13,  33,24"


def test_apply_that_cannot_save_leaves_the_project_unchanged(tmp_path):
    from yolo_studio.core.project import Project

    project = Project.create(tmp_path / "p", ["a"])
    fitted = A.fit_anchors(clustered(10), 9, generations=0)

    def failing_save():
        raise PermissionError(f"{project.project_file}: read-only")

    project.save = failing_save
    with pytest.raises(PermissionError):
        A.apply_to_project(project, fitted, "yolov3", 416)
    assert project.anchors is None and project.anchors_size == 416


@pytest.mark.parametrize("stop_at", [0.05, 0.6])   # during the restarts / the genetic step
def test_stop_set_mid_fit_ends_it_at_the_next_check(stop_at):
    stop = threading.Event()
    seen: list[float] = []

    def progress(fraction):
        seen.append(fraction)
        if fraction >= stop_at:
            stop.set()

    with pytest.raises(A.FitCancelled):
        A.fit_anchors(clustered(30), 9, stop=stop, progress=progress)
    assert seen[-1] < 1.0

"""Active learning: scoring is deterministic and cached per checkpoint, never suggests labelled
images, cancels within one batch; the CLI writes its list without replacing anyone's file."""
import shutil
import threading

import numpy as np
import pytest

from yolo_studio.core.active import cache, select
from yolo_studio.core.active.cache import ScoreTable
from yolo_studio.core.active.job import score_images
from yolo_studio.core.active.probe import ModelProbe
from yolo_studio.core.active.suggest import is_labelled, suggest
from yolo_studio.core.annotations import Box
from yolo_studio.core.demo_hard import HARD_CLASSES
from yolo_studio.core.project import Project


def _checkpoint(folder, seed):
    import keras

    from yolo_studio.core.model import ModelSpec, build_model, save_checkpoint
    keras.utils.set_random_seed(seed)
    model = build_model("yolov3-tiny", len(HARD_CLASSES), None)
    return save_checkpoint(model, ModelSpec("yolov3-tiny", len(HARD_CLASSES), 64, class_names=HARD_CLASSES),
                           folder / "last")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A 14-image hard demo whose first 10 images lost their labels, and two tiny random checkpoints."""
    from yolo_studio.core.demo import generate_demo_project
    tmp = tmp_path_factory.mktemp("active")
    root = generate_demo_project(tmp / "p", n_images=14, seed=0, min_size=64, max_size=96, kind="hard")
    for xml in sorted((root / "images").glob("*.xml"))[:10]:
        xml.unlink()
    w0, w1 = _checkpoint(tmp / "w0", 0), _checkpoint(tmp / "w1", 1)
    return root, w0, w1, ModelProbe.load(w0), ModelProbe.load(w1)


@pytest.fixture
def project(base, tmp_path):
    shutil.copytree(base[0], tmp_path / "p")
    return Project.open(tmp_path / "p")


def _names(result):
    return [s.image.name for s in result.order]


def test_same_checkpoint_and_seed_give_the_same_order_and_scores(project, base):
    first = suggest(project, base[1], probe=base[3], n=4, seed=3)
    shutil.rmtree(project.runs_dir / cache.CACHE_DIR)          # score again from nothing
    again = suggest(project, base[1], probe=base[3], n=4, seed=3)
    assert first.scored_now == again.scored_now == 14 and len(first.order) == 10
    assert _names(first) == _names(again)
    assert [s.uncertainty for s in first.order] == [s.uncertainty for s in again.order]
    assert [s.consistency for s in first.order] == [s.consistency for s in again.order]
    other = suggest(project, base[2], probe=base[4], n=4, seed=3)   # other weights: own cache, own scores
    assert other.scored_now == 14
    assert sorted(s.uncertainty for s in other.order) != sorted(s.uncertainty for s in first.order)


def test_a_second_look_comes_from_the_cache_and_a_changed_image_is_rescored(project, base):
    suggest(project, base[1], probe=base[3], n=3)
    again = suggest(project, base[1], probe=base[3], n=3)
    assert (again.scored_now, again.from_cache) == (0, 14)
    img = project.image_paths()[0]
    img.write_bytes(project.image_paths()[1].read_bytes())
    assert suggest(project, base[1], probe=base[3], n=3).scored_now == 1


def test_suggestions_never_include_labelled_or_verified_images(project, base):
    images = project.image_paths()
    human, verified_empty, prelabelled = images[0], images[1], images[2]
    ann = project.load_annotation(human)
    ann.boxes = [Box(1, 1, 20, 20, "ring")]
    project.save_annotation(ann)
    ann = project.load_annotation(verified_empty)
    ann.verified = True
    project.save_annotation(ann)
    ann = project.load_annotation(prelabelled)
    ann.boxes = [Box(1, 1, 20, 20, "bar", predicted=True, score=0.4)]
    project.save_annotation(ann)
    assert [is_labelled(project, p) for p in images[:3]] == [True, True, False]
    names = _names(suggest(project, base[1], probe=base[3], n=20))
    labelled = {p.name for p in images if is_labelled(project, p)}
    assert len(labelled) == 6 and not labelled & set(names)
    assert prelabelled.name in names and len(names) == 8       # pre-labels alone are not labelling


def test_the_job_stops_within_one_batch_of_cancel(base):
    project = Project.open(base[0])
    probe = base[3]
    cancel, table, seen = threading.Event(), ScoreTable(), []

    def progress(done, total):
        seen.append(done)
        cancel.set()                       # the user presses Cancel during the first batch

    images = [(p.name, p) for p in project.image_paths()]
    result = score_images(probe, images, table, batch_size=4, progress=progress, cancel=cancel)
    assert result.cancelled and result.scored == 4 and len(table.rows) == 4 and seen == [4]


def test_an_unreadable_image_is_named_and_the_rest_are_scored(project, base):
    bad = project.image_paths()[0]
    bad.write_bytes(b"not an image")
    result = suggest(project, base[1], probe=base[3], n=3)
    assert [p.path for p in result.problems] == [str(bad)] and len(result.order) == 9


def test_a_foreign_file_at_the_cache_path_is_left_alone(project, base):
    probe = base[3]
    from yolo_studio.core.active.probe import second_scale
    key = cache.checkpoint_key(base[1], {"size": 64, "second": second_scale(64), "flip": True})
    path = cache.cache_path(project.runs_dir, key)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"someone's file")
    result = suggest(project, base[1], n=3, probe=probe)
    assert path.read_bytes() == b"someone's file" and len(result.order) == 10
    assert "not a score file" in result.notes[0]


def test_a_project_trained_without_flip_is_not_scored_on_mirror_disagreement(project, base):
    """Digits train without hflip (a mirrored 2 is not a 2): the mirror pass would flag every image."""
    mirrored = {s.image.name: s.consistency for s in suggest(project, base[1], probe=base[3], n=3).order}
    project.train_settings["hflip"] = False
    project.save()
    plain = suggest(project, base[1], probe=base[3], n=3)
    assert plain.scored_now == 14                       # not the scores of the mirrored setting
    scale_only = {s.image.name: s.consistency for s in plain.order}
    assert all(scale_only[k] <= mirrored[k] + 1e-9 for k in mirrored)
    assert any(scale_only[k] < mirrored[k] - 1e-6 for k in mirrored)


def test_k_center_spreads_a_batch_over_near_duplicates():
    emb = np.array([[0, 0], [0.01, 0], [0, 0.01], [5, 5], [5.01, 5], [-5, 5]], float)
    group = {0: "a", 1: "a", 2: "a", 3: "b", 4: "b", 5: "c"}
    assert sorted(group[i] for i in select.k_center(emb, 3, first=0)) == ["a", "b", "c"]
    # labelled images are centres already: nothing near them is picked first
    assert select.k_center(emb, 1, centres=np.array([[0, 0], [5, 5]]))[0] == 5
    unc = np.array([9, 8.9, 8.8, 1, 0.9, 0.5])
    picks = select.pick("combined", unc, unc, emb, 2, seed=0, pool_factor=3)
    assert len(set(picks)) == 2 and not {0, 1, 2} >= set(picks)   # not two near-identical frames


def test_cli_writes_the_list_and_never_replaces_a_file_it_did_not_write(project, base, tmp_path, capsys):
    from yolo_studio.cli import main
    out = tmp_path / "lists" / "next.txt"
    out.parent.mkdir()
    args = ["suggest", str(project.root), "--weights", str(base[1]), "--n", "3", "--out", str(out)]
    assert main(args) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 3 and all(not is_labelled(project, p) for p in lines)
    assert main(args + ["--n", "2"]) == 0 and len(out.read_text().splitlines()) == 2   # its own list
    mine = tmp_path / "lists" / "mine.txt"
    mine.write_text("my notes\n")
    capsys.readouterr()
    assert main(args[:-1] + [str(mine)]) == 1
    assert mine.read_text() == "my notes\n" and "did not write" in capsys.readouterr().err


def test_next_suggested_walks_in_order_and_skips_images_labelled_meanwhile(tmp_path):
    from yolo_studio.core.active.walk import SuggestionWalk
    order = [tmp_path / f"{n}.jpg" for n in "cabde"]
    walk = SuggestionWalk(order)
    labelled = set()
    assert walk.next(labelled.__contains__) == order[0]
    labelled |= {order[1], order[2]}                  # the person labelled b and d meanwhile
    assert walk.next(labelled.__contains__, current=order[0]) == order[3]
    # from an image that was not suggested, the walk goes on after the last suggestion visited
    assert walk.next(labelled.__contains__, current=tmp_path / "other.jpg") == order[4]
    assert walk.next(labelled.__contains__) is None and walk.remaining(labelled.__contains__) == 3
    assert walk.rank(order[3]) == 3 and walk.rank(tmp_path / "other.jpg") is None


def test_signals_rise_with_doubt_and_with_disagreement():
    from yolo_studio.core.active import signals
    from yolo_studio.core.boxes import Letterbox

    def cands(rows):
        return signals.candidates(np.array(rows, float), Letterbox(1.0, 0, 0, 64, 64), 64, 64)

    sure = cands([[10, 10, 30, 30, 0.99, 0.99, 0.01, 0.01]])
    torn = cands([[10, 10, 30, 30, 0.5, 0.5, 0.5, 0.5]])       # score 0.25: at the threshold, any class
    assert signals.uncertainty(torn) > 0.2 > 0.1 > signals.uncertainty(sure)
    # two boxes on one object are one candidate (class-agnostic NMS)
    assert len(cands([[10, 10, 30, 30, 0.9, 0.9, 0, 0], [11, 10, 31, 30, 0.8, 0, 0.9, 0]]).scores) == 1
    moved = cands([[40, 40, 60, 60, 0.99, 0.99, 0.01, 0.01]])
    assert signals.disagreement(sure, sure) == 0.0
    assert signals.disagreement(sure, moved) == pytest.approx(2 * 0.99 * 0.99)
    assert signals.consistency(sure, sure, cands(np.zeros((0, 8)))) == pytest.approx(0.99 * 0.99)


def test_a_file_where_the_cache_folder_goes_costs_only_the_cache(project, base):
    # runs/active_cache is someone's file: the scores are still given, the file stays, a note says why.
    folder = cache.cache_path(project.runs_dir, "x").parent
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_bytes(b"someone's file")
    result = suggest(project, base[1], n=3, probe=base[3])
    assert folder.read_bytes() == b"someone's file" and len(result.order) == 10
    assert any("not cached" in n and str(folder) in n for n in result.notes)


@pytest.mark.parametrize("out", [".", "lists"])
def test_suggest_out_naming_a_folder_says_so(tmp_path, capsys, monkeypatch, out):
    from yolo_studio.cli import main
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lists").mkdir()
    assert main(["suggest", str(tmp_path / "nowhere"), "--out", out]) == 1
    err = capsys.readouterr().err
    assert "is a folder" in err and "()" not in err


def test_faint_clutter_counts_less_than_one_doubtful_object():
    """A clutter image's many faint candidates must not outrank an object the model is torn about."""
    from yolo_studio.core.active import signals
    from yolo_studio.core.boxes import Letterbox

    def cands(rows):
        return signals.candidates(np.array(rows, float), Letterbox(1.0, 0, 0, 128, 128), 128, 128)

    faint = [[x, 5, x + 20, 25, 0.12, 0.5, 0.5, 0.5] for x in (0, 30, 60, 90)]  # scores 0.06, any class
    doubtful = [[40, 60, 80, 100, 0.6, 0.5, 0.5, 0.5]]                          # score 0.3, any class
    clutter, torn = cands(faint), cands(doubtful)
    assert len(clutter.scores) == 4
    assert signals.uncertainty(torn) > signals.uncertainty(clutter)
    # a confident object beside the doubt adds little: the doubt decides
    sure = [[5, 100, 25, 120, 0.99, 0.99, 0.01, 0.01]]
    assert signals.uncertainty(cands(doubtful + sure)) < 1.5 * signals.uncertainty(torn)


def test_a_combination_without_k_center_takes_the_top_scores():
    emb = np.array([[0, 0], [0.01, 0], [5, 5], [-5, 5]], float)
    unc = cons = np.array([9.0, 8.9, 1.0, 0.5])
    assert select.pick("combined", unc, cons, emb, 2, pool_factor=0) == [0, 1]
    spread = select.pick("combined", unc, cons, emb, 2, pool_factor=2)
    assert 0 in spread and 1 not in spread            # the near-duplicate gives way to the next frame
    ordered = select.order_all("combined", unc, cons, emb, 2, pool_factor=0,
                               weights={"uncertainty": 0.0, "consistency": 1.0})
    assert ordered == [0, 1, 2, 3]


def _scenes(n_scenes: int, frames: int, jitter: float, seed: int = 0) -> np.ndarray:
    """Embeddings of ``n_scenes`` scenes, ``frames`` near-identical frames each (video-like)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (n_scenes, 16))
    return np.repeat(centres, frames, axis=0) + rng.normal(0, jitter, (n_scenes * frames, 16))


def test_a_video_like_pool_is_told_from_independent_images():
    assert select.has_near_duplicates(_scenes(60, 5, 0.02))
    assert not select.has_near_duplicates(_scenes(300, 1, 0.02))
    assert select.near_duplicate_share(_scenes(300, 1, 0.02)) < 0.05
    # Above the sample size, near-duplicates are still found across the whole pool.
    assert select.near_duplicate_share(_scenes(400, 3, 0.02), seed=1) > 0.9
    assert select.near_duplicate_share(np.zeros((2, 4))) == 0.0


def test_the_default_spreads_its_picks_over_scenes_only_in_a_video_like_pool():
    # The best-scoring scene's five frames lead the scores: a default pick in a video-like pool
    # takes one frame of several scenes; in a pool of independent images it is the top k as before.
    video = _scenes(20, 5, 0.02)
    score = np.repeat(np.linspace(1.0, 0.0, 20), 5) + np.tile(np.linspace(0.01, 0.0, 5), 20)
    picks = select.pick("combined", score, score, video, 5, seed=0)
    # the top 5 are one scene; the 3k shortlist holds three, and k-center takes from each
    assert select.pick("combined", score, score, video, 5, seed=0, pool_factor=1) == [0, 1, 2, 3, 4]
    assert {i // 5 for i in picks} == {0, 1, 2} and 0 in picks
    independent = _scenes(100, 1, 0.02)
    assert select.pick("combined", score, score, independent, 5, seed=0) == [0, 1, 2, 3, 4]


def test_suggest_says_when_the_pool_is_video_frames(project, base):
    import cv2

    plain = suggest(project, base[1], probe=base[3], n=3)
    assert not any("near-identical" in n for n in plain.notes)
    # Each unlabelled image becomes a run of four frames, a few pixels of noise apart.
    rng = np.random.default_rng(0)
    for path in [s.image for s in plain.order]:
        img = cv2.imread(str(path))
        for t in range(1, 4):
            noisy = np.clip(img.astype(np.int16) + rng.integers(-2, 3, img.shape), 0, 255).astype(np.uint8)
            cv2.imwrite(str(path.with_name(f"{path.stem}_f{t}.jpg")), noisy)
    video = suggest(Project.open(project.root), base[1], probe=base[3], n=6)
    assert any("near-identical" in n for n in video.notes)
    # (the spread itself: test_the_default_spreads_its_picks_over_scenes_only_in_a_video_like_pool)

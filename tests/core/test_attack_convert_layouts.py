"""convert / Export into the dataset it reads (docs/reliability-2.md): refused even with
--overwrite, because the written images would join that dataset's own split."""
import pytest

from layout_fixtures import changed, snapshot, ultralytics_dataset
from yolo_studio.cli import main


@pytest.mark.parametrize("where,to", [("images/train", "ultralytics"), (".", "voc-devkit"),
                                      ("images/val/out", "coco-dataset")])
def test_convert_never_writes_into_the_source_datasets_folders(tmp_path, capsys, where, to):
    ultralytics_dataset(tmp_path)
    before = snapshot(tmp_path)
    rc = main(["convert", "--from", "ultralytics", "--to", to, "--overwrite", str(tmp_path),
               str(tmp_path / where)])
    err = capsys.readouterr().err
    assert rc != 0 and "source" in err and str(tmp_path) in err
    assert changed(before, snapshot(tmp_path)) == set()


def test_export_of_a_plain_project_may_go_below_its_image_folder(tmp_path):
    # Only a source that reads subfolders (ultralytics) is refused there: a plain folder is not.
    from layout_fixtures import image
    from yolo_studio.core.annotations import Box, ImageAnnotation
    from yolo_studio.core.formats.dataset import export_project
    from yolo_studio.core.project import Project
    project = Project.create(tmp_path, ["cat"], image_dirs=["."])
    project.save_annotation(ImageAnnotation(image(tmp_path / "a.jpg"), 64, 48, [Box(1, 1, 20, 20, "cat")]))
    written = export_project(Project.open(tmp_path), "ultralytics", tmp_path / "exports" / "ul")
    assert written.images == 1 and (tmp_path / "exports" / "ul" / "data.yaml").is_file()


def test_a_linked_folder_in_the_output_counts_as_someone_elses(tmp_path, capsys):
    # out/JPEGImages -> the user's photos: the walk did not follow it, so the folder looked
    # empty and convert put its images among the photos.
    ultralytics_dataset(tmp_path / "ds")
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "holiday.jpg").write_bytes(b"a photo")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "JPEGImages").symlink_to(photos)
    rc = main(["convert", "--from", "ultralytics", "--to", "voc-devkit", str(tmp_path / "ds"),
               str(tmp_path / "out")])
    assert rc != 0 and "JPEGImages" in capsys.readouterr().err
    assert [p.name for p in photos.iterdir()] == ["holiday.jpg"]

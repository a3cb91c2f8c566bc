"""Datasets laid out by hand exactly as ultralytics, the VOC devkit and COCO write them."""
from __future__ import annotations

import json
import random
from pathlib import Path

import cv2
import numpy as np


def image(path: Path, w: int = 64, h: int = 48) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.full((h, w, 3), 90, np.uint8)
    assert cv2.imwrite(str(path), img)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(root: Path) -> dict:
    """Every file under ``root`` with its bytes (the tests' per-user folder, where caches go, aside)."""
    return {p: p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "yolo-studio-home" not in p.parts}


def changed(before: dict, after: dict) -> set:
    """Files added, removed or changed between two snapshots."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def ultralytics_dataset(root: Path) -> Path:
    """coco8-style: data.yaml (path, train, val, names dict), images/<split>, labels/<split>."""
    for split, stems in (("train", ["a", "b"]), ("val", ["c"])):
        for s in stems:
            image(root / "images" / split / f"{s}.jpg")
    write(root / "labels" / "train" / "a.txt", "0 0.5 0.5 0.25 0.25\n1 0.25 0.25 0.125 0.166667\n")
    write(root / "labels" / "train" / "b.txt", "1 0.5 0.5 0.5 0.5\n")
    write(root / "labels" / "val" / "c.txt", "0 0.5 0.5 0.25 0.5\n")
    return write(root / "data.yaml", "# my dataset\npath: .  # dataset root\ntrain: images/train\n"
                                     "val: images/val\ntest:  # none\n\nnames:\n  0: cat\n  1: dog\n")


DEVKIT_XML = """<annotation>
\t<folder>VOC2007</folder>
\t<filename>{stem}.jpg</filename>
\t<source>
\t\t<database>The VOC2007 Database</database>
\t\t<annotation>PASCAL VOC2007</annotation>
\t\t<image>flickr</image>
\t\t<flickrid>341012865</flickrid>
\t</source>
\t<owner>
\t\t<flickrid>Fried Camels</flickrid>
\t\t<name>Jinky the Fruit Bat</name>
\t</owner>
\t<size>
\t\t<width>64</width>
\t\t<height>48</height>
\t\t<depth>3</depth>
\t</size>
\t<segmented>0</segmented>
\t<object>
\t\t<name>person</name>
\t\t<pose>Left</pose>
\t\t<truncated>1</truncated>
\t\t<difficult>0</difficult>
\t\t<bndbox>
\t\t\t<xmin>8</xmin>
\t\t\t<ymin>12</ymin>
\t\t\t<xmax>40</xmax>
\t\t\t<ymax>44</ymax>
\t\t</bndbox>
\t\t<part>
\t\t\t<name>head</name>
\t\t\t<bndbox>
\t\t\t\t<xmin>10</xmin>
\t\t\t\t<ymin>12</ymin>
\t\t\t\t<xmax>20</xmax>
\t\t\t\t<ymax>20</ymax>
\t\t\t</bndbox>
\t\t</part>
\t</object>
\t<object>
\t\t<name>dog</name>
\t\t<pose>Unspecified</pose>
\t\t<truncated>0</truncated>
\t\t<difficult>1</difficult>
\t\t<bndbox>
\t\t\t<xmin>30</xmin>
\t\t\t<ymin>6</ymin>
\t\t\t<xmax>60</xmax>
\t\t\t<ymax>30</ymax>
\t\t</bndbox>
\t</object>
</annotation>
"""


def voc_devkit(root: Path) -> Path:
    """VOCdevkit/VOC2007 (train.txt, val.txt, test.txt) and VOC2012 (trainval.txt) side by side."""
    dev = root / "VOCdevkit"
    for year, stems, sets in (("VOC2007", ["000001", "000002", "000003"],
                               {"train": ["000001"], "val": ["000002"], "test": ["000003"]}),
                              ("VOC2012", ["2008_000001"], {"trainval": ["2008_000001"]})):
        for s in stems:
            image(dev / year / "JPEGImages" / f"{s}.jpg")
            write(dev / year / "Annotations" / f"{s}.xml", DEVKIT_XML.format(stem=s))
        for name, ids in sets.items():
            write(dev / year / "ImageSets" / "Main" / f"{name}.txt", "".join(f"{i}\n" for i in ids))
        # per-class lists sit beside them ("id  1" / "id -1"); they are not split files
        write(dev / year / "ImageSets" / "Main" / "dog_train.txt", f"{stems[0]}  1\n")
    return dev


def coco_dataset(root: Path) -> Path:
    """annotations/instances_{train,val}2017.json + train2017/, val2017/; ids with gaps, a crowd region."""
    cats = [{"supercategory": "animal", "id": 17, "name": "cat"},
            {"supercategory": "animal", "id": 18, "name": "dog"}]
    for split, names, first_id in (("train2017", ["000000000009.jpg", "000000000025.jpg"], 1),
                                   ("val2017", ["000000000139.jpg"], 100)):
        imgs, anns = [], []
        for k, n in enumerate(names):
            image(root / split / n)
            iid = first_id + k
            imgs.append({"license": 3, "file_name": n, "coco_url": f"http://images.cocodataset.org/{split}/{n}",
                         "height": 48, "width": 64, "date_captured": "2013-11-14 11:18:45",
                         "flickr_url": "http://farm.example/x.jpg", "id": iid})
            anns.append({"segmentation": [[10.0, 10.0, 30.0, 10.0, 30.0, 30.0]], "area": 200.0, "iscrowd": 0,
                         "image_id": iid, "bbox": [10.0, 10.0, 20.0, 20.0], "category_id": 17,
                         "id": 1000 * first_id + 2 * k})
            anns.append({"segmentation": {"counts": [5, 10, 5], "size": [48, 64]}, "area": 90.0, "iscrowd": 1,
                         "image_id": iid, "bbox": [40.0, 20.0, 15.0, 12.0], "category_id": 18,
                         "id": 1000 * first_id + 2 * k + 1})
        data = {"info": {"description": "COCO 2017 Dataset", "year": 2017}, "licenses": [{"id": 3, "name": "x"}],
                "images": imgs, "annotations": anns, "categories": cats}
        write(root / "annotations" / f"instances_{split}.json", json.dumps(data))
    return root


def synthetic_coco(root: Path, n_images: int = 30, seed: int = 0) -> Path:
    """train2017 with boxes of every kind read() treats apart: plain, crowd, unknown category,
    partly outside (clipped), wholly outside and zero-sized (hidden), and images without boxes."""
    rng = random.Random(seed)
    cats = [{"id": i, "name": n} for i, n in ((3, "car"), (1, "person"), (44, "bottle"))]
    imgs, anns = [], []
    for i in range(n_images):
        name = f"{i + 1:012d}.jpg"
        image(root / "train2017" / name)
        imgs.append({"id": i + 1, "file_name": name, "width": 64, "height": 48})
    for k in range(5 * n_images):
        x, y, w, h = rng.uniform(0, 50), rng.uniform(0, 36), rng.uniform(1, 14), rng.uniform(1, 12)
        kind = k % 17
        if kind == 1:
            x = 58.0                      # partly outside: clipped
        elif kind == 2:
            x = 70.0                      # wholly outside: hidden
        elif kind == 3:
            w = 0.0                       # zero-sized: hidden
        anns.append({"id": 10 * k + 7, "image_id": rng.randrange(n_images - 3) + 1,   # the last 3: no boxes
                     "category_id": 99 if kind == 4 else rng.choice([3, 1, 44]),   # 99: not in categories
                     "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)],
                     "iscrowd": int(kind == 5), "area": 1.0, "segmentation": [[x, y, x + w, y, x + w, y + h]]})
    write(root / "annotations" / "instances_train2017.json",
          json.dumps({"images": imgs, "annotations": anns, "categories": cats}))
    return root

import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
from yolo_studio.core.project import Project
from yolo_studio.core.annotations import Box

def make(name, data, raw=None, imgs=("a.jpg", "b.jpg", "c.jpg"), enc=None):
    d = fresh(name)
    for n in imgs: img(d / "val" / n)
    (d / "annotations").mkdir()
    f = d / "annotations" / "instances_val.json"
    if raw is None:
        raw = json.dumps(data, indent=2)
    f.write_bytes(raw if isinstance(raw, bytes) else raw.encode(enc or "utf-8"))
    return d, f

def base():
    return {"info": {"description": "x", "version": "1.0"}, "licenses": [{"id": 1, "name": "L"}],
            "images": [{"id": 10, "file_name": "a.jpg", "width": 200, "height": 100},
                       {"id": 20, "file_name": "b.jpg", "width": 200, "height": 100},
                       {"id": 30, "file_name": "c.jpg", "width": 200, "height": 100}],
            "annotations": [
                {"id": 5, "image_id": 10, "category_id": 3, "bbox": [10, 10, 20, 20], "area": 400, "iscrowd": 0,
                 "segmentation": [[10, 10, 30, 10, 30, 30]]},
                {"id": 7, "image_id": 10, "category_id": 1, "bbox": [50.5, 20.25, 30.0, 10.0], "area": 300.0, "iscrowd": 0,
                 "segmentation": []},
                {"id": 9, "image_id": 20, "category_id": 3, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 1,
                 "segmentation": {"counts": "abc", "size": [100, 200]}},
                {"id": 11, "image_id": 20, "category_id": 1, "bbox": [60, 60, 10, 10], "area": 100, "iscrowd": 0},
                {"id": 12, "image_id": 99, "category_id": 1, "bbox": [60, 60, 10, 10], "area": 100, "iscrowd": 0},
            ],
            "categories": [{"id": 1, "name": "cat", "supercategory": "animal"}, {"id": 3, "name": "dog"}],
            "zzz_extra": {"keep": [1, 2.0, 3e5]}}

def move_first(p, image, dx=1):
    ann = p.load_annotation(image)
    b = ann.boxes[0]
    ann.boxes[0] = b.moved(x1=b.x1 + dx, x2=b.x2 + dx)
    p.save_annotation(ann)
    return ann

def case_move():
    d, f = make("c_move", base())
    before = f.read_text()
    p = Project.open(d)
    snap0 = snap(d)
    move_first(p, d / "val/a.jpg")
    after = f.read_text()
    import difflib
    dl = [l for l in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)]
    return f"changed files: {diff(snap0, snap(d))}; diff lines: {dl}"

def case_noid():
    data = base()
    for a in data["annotations"]:
        if a["id"] == 11: del a["id"]
    d, f = make("c_noid", data)
    p = Project.open(d)
    ann = p.load_annotation(d / "val/b.jpg")
    ann.verified = not ann.verified
    n0 = len(json.loads(f.read_text())["annotations"])
    p.save_annotation(ann); 
    p = Project.open(d)
    ann = p.load_annotation(d / "val/b.jpg")
    p.save_annotation(ann)
    anns = json.loads(f.read_text())["annotations"]
    return f"annotations before {n0}, after two plain saves of b.jpg: {len(anns)}: {[a for a in anns if a['image_id']==20]}"

def case_dupid_crowd():
    data = base()
    data["annotations"][3]["id"] = 9   # same id as the crowd region on image 20
    d, f = make("c_dupid", data)
    p = Project.open(d)
    ann = move_first(p, d / "val/b.jpg", 2)
    anns = [a for a in json.loads(f.read_text())["annotations"] if a["image_id"] == 20]
    return f"image 20 after moving its one visible box: {anns}"

def case_nonascii_escaped():
    data = base()
    data["annotations"][0]["attributes"] = {"note": "caf\u00e9"}
    d, f = make("c_esc", data)   # json.dumps -> ascii with \u00e9
    p = Project.open(d)
    move_first(p, d / "val/a.jpg")
    return "saved; " + [l for l in f.read_text().splitlines() if "note" in l][0]

def case_bom():
    raw = b"\xef\xbb\xbf" + json.dumps(base(), indent=2).encode()
    d, f = make("c_bom", None, raw=raw)
    p = Project.open(d)
    move_first(p, d / "val/a.jpg")
    bom = b'\xef\xbb\xbf'; return f"BOM kept: {f.read_bytes().startswith(bom)}"

def case_crlf():
    raw = json.dumps(base(), indent=2).replace("\n", "\r\n")
    d, f = make("c_crlf", None, raw=raw)
    p = Project.open(d)
    move_first(p, d / "val/a.jpg")
    t = f.read_bytes()
    crlf, lf = t.count(b'\r\n'), t.count(b'\n'); return f"CRLF {crlf} LF-only {lf - crlf}"

def case_bad_ann_id():
    data = base()
    data["annotations"].append({"id": 13, "image_id": 30, "category_id": 1, "bbox": "broken"})
    d, f = make("c_badid", data)
    p = Project.open(d)
    ann = p.load_annotation(d / "val/c.jpg")
    ann.boxes.append(Box(5, 5, 50, 50, "cat"))
    p.save_annotation(ann)
    ids = [a.get("id") for a in json.loads(f.read_text())["annotations"]]
    return f"ids after adding a box to c.jpg: {ids}"

def case_dup_cat_id():
    data = base()
    data["categories"].append({"id": 3, "name": "bird"})
    d, f = make("c_dupcat", data)
    p = Project.open(d)
    return f"classes {p.classes}; a.jpg {p.load_annotation(d/'val/a.jpg').labels()}"

def case_dup_cat_name():
    data = base()
    data["categories"].append({"id": 4, "name": "dog"})
    data["annotations"].append({"id": 14, "image_id": 30, "category_id": 4, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0})
    d, f = make("c_dupname", data)
    p = Project.open(d)
    ann = p.load_annotation(d/'val/c.jpg'); s0 = f.read_text()
    move_first(p, d/'val/c.jpg')
    a = [x for x in json.loads(f.read_text())["annotations"] if x["id"] == 14]
    return f"classes {p.classes}; c.jpg {ann.labels()}; after move category_id {a[0]['category_id']} (was 4)"

def case_empty_ann_array():
    data = base(); data["annotations"] = []
    d, f = make("c_empty", data)
    p = Project.open(d)
    ann = p.load_annotation(d / "val/c.jpg")
    ann.boxes.append(Box(5, 5, 50, 50, "cat")); p.save_annotation(ann)
    ann = p.load_annotation(d / "val/c.jpg")
    ann.boxes.append(Box(6, 6, 50, 50, "dog")); p.save_annotation(ann)
    json.loads(f.read_text())
    return f"valid JSON, annotations {json.loads(f.read_text())['annotations']}"

def case_rename():
    d, f = make("c_rename", base())
    p = Project.open(d); s0 = snap(d)
    out = []
    for fn in (lambda: p.rename_class("cat", "kitty"), lambda: p.remove_class("dog"), lambda: p.add_class("cow")):
        try: fn(); out.append("done")
        except Exception as e: out.append(f"{type(e).__name__}: {str(e)[:80]}")
    return f"{out}; changed: {diff(s0, snap(d))}"

def case_new_class_box():
    d, f = make("c_newclass", base())
    p = Project.open(d); s0 = snap(d)
    ann = p.load_annotation(d / "val/c.jpg"); ann.boxes.append(Box(5, 5, 50, 50, "cow"))
    try: p.save_annotation(ann); r = "saved"
    except Exception as e: r = f"{type(e).__name__}: {str(e)[:100]}"
    return f"{r}; changed {diff(s0, snap(d))}"

def case_open_writes():
    d, f = make("c_open", base())
    s0 = snap(d); m0 = {p: p.stat().st_mtime_ns for p in d.rglob('*')}
    p = Project.open(d); p.load_all(); p.split()
    m1 = {p: p.stat().st_mtime_ns for p in d.rglob('*')}
    return f"changed {diff(s0, snap(d))}; new paths {[str(x) for x in set(m1) - set(m0)]}"

def case_readonly():
    d, f = make("c_ro", base())
    os.chmod(f, 0o444)
    p = Project.open(d)
    try: move_first(p, d / "val/a.jpg"); r = "saved"
    except Exception as e: r = f"{type(e).__name__}: {str(e)[:100]}"
    return f"{r}; mode {oct(f.stat().st_mode & 0o777)}"

def case_symlink_json():
    d, f = make("c_link", base())
    ext = T / "c_link_ext.json"; shutil.move(f, ext); os.symlink(ext, f)
    p = Project.open(d)
    try: move_first(p, d / "val/a.jpg"); r = "saved"
    except Exception as e: r = f"{type(e).__name__}: {str(e)[:100]}"
    return f"{r}; still a link: {f.is_symlink()}"

def case_delete_seg():
    d, f = make("c_delseg", base())
    p = Project.open(d)
    ann = p.load_annotation(d / "val/a.jpg")
    ann.boxes = [b for b in ann.boxes if b.label != "dog"]
    p.save_annotation(ann)
    anns = json.loads(f.read_text())["annotations"]
    return f"ids left: {[a['id'] for a in anns]}"


def case_dup_annotations_key():
    data = base()
    raw = json.dumps(data, indent=1)
    extra = ',\n "annotations": [{"id": 50, "image_id": 30, "category_id": 1, "bbox": [5, 5, 10, 10], "area": 100, "iscrowd": 0}]\n}'
    raw = raw.rstrip().rstrip("}") + extra
    d, f = make("c_dupkey", None, raw=raw)
    p = Project.open(d)
    _, probs = p.load_all()
    try:
        move_first(p, d / "val/a.jpg"); r = "saved"
        json.loads(f.read_text()); r += ", valid JSON"
    except Exception as e: r = f"{type(e).__name__}: {str(e)[:150]}"
    return f"c.jpg {p.load_annotation(d/'val/c.jpg').labels()}; {r}; problems {[str(x)[:80] for x in probs]}"

def case_ann_not_dict():
    data = base(); data["annotations"].insert(1, "junk"); data["annotations"].insert(0, None)
    d, f = make("c_junk", data)
    p = Project.open(d); _, probs = p.load_all(); move_first(p, d / "val/a.jpg")
    a = json.loads(f.read_text())["annotations"]
    return f"{a[:2]} ... n={len(a)}; problems {[str(x)[:60] for x in probs]}"

def case_image_id_float():
    data = base(); data["annotations"][0]["image_id"] = 10.0
    d, f = make("c_float", data)
    p = Project.open(d); _, probs = p.load_all()
    return f"a.jpg {p.load_annotation(d/'val/a.jpg').labels()}; problems {[str(x)[:100] for x in probs]}"

def case_bool_iscrowd_string():
    data = base(); data["annotations"][1]["iscrowd"] = "0"
    d, f = make("c_crowdstr", data)
    p = Project.open(d)
    return f"a.jpg visible {p.load_annotation(d/'val/a.jpg').labels()}"


def case_dup_annotations_key_edit_second():
    data = base()
    raw = json.dumps(data, indent=1)
    extra = ',\n "annotations": [{"id": 50, "image_id": 30, "category_id": 1, "bbox": [5, 5, 10, 10], "area": 100, "iscrowd": 0}]\n}'
    raw = raw.rstrip().rstrip("}") + extra
    d, f = make("c_dupkey2", None, raw=raw)
    p = Project.open(d)
    try:
        move_first(p, d / "val/c.jpg"); r = "saved"
        j = json.loads(f.read_text()); r += f", valid JSON; last annotations {j['annotations']}"
    except Exception as e: r = f"{type(e).__name__}: {str(e)[:150]}"
    t = f.read_text(); r += f"; first array starts: {t[t.index(chr(34)+'annotations'):][:120]!r}"
    return r


def case_huge_ids():
    data = base(); data["annotations"][0]["id"] = 2 ** 64 + 5
    d, f = make("c_huge", data)
    try: p = Project.open(d); return f"opened; a.jpg {p.load_annotation(d/'val/a.jpg').labels()}"
    except Exception as e: return f"{type(e).__name__}: {str(e)[:150]}"

def case_huge_image_id():
    data = base(); data["images"][0]["id"] = 2 ** 64; data["annotations"][0]["image_id"] = 2 ** 64
    d, f = make("c_hugeimg", data)
    try: p = Project.open(d); return f"opened; a.jpg {p.load_annotation(d/'val/a.jpg').labels()}"
    except Exception as e: return f"{type(e).__name__}: {str(e)[:150]}"

def case_huge_cat_id():
    data = base(); data["categories"][0]["id"] = 2 ** 64; data["annotations"][1]["category_id"] = 2 ** 64
    d, f = make("c_hugecat", data)
    try: p = Project.open(d); return f"opened; a.jpg {p.load_annotation(d/'val/a.jpg').labels()}"
    except Exception as e: return f"{type(e).__name__}: {str(e)[:150]}"

def case_bbox_huge():
    data = base(); data["annotations"][0]["bbox"] = [1e308, 1e308, 1e308, 1e308]
    d, f = make("c_bbhuge", data)
    try: p = Project.open(d); p.load_all(); return f"opened; a.jpg {p.load_annotation(d/'val/a.jpg').labels()}"
    except Exception as e: return f"{type(e).__name__}: {str(e)[:150]}"

def case_unicode_text_path():
    data = base(); data["info"]["description"] = "caf\u00e9 \U0001F408 \u65e5\u672c"
    data["categories"][0]["name"] = "ch\u00e4t"
    data["annotations"][3]["attributes"] = {"n": "\u00fc\U0001F408"}
    d, f = make("c_unicode", None, raw=json.dumps(data, indent=1, ensure_ascii=False))
    before = f.read_text(encoding="utf-8")
    p = Project.open(d); move_first(p, d / "val/b.jpg")
    after = f.read_text(encoding="utf-8")
    import difflib
    dl = [l for l in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)][2:]
    return f"{len(dl)} diff lines: {[l[:100] for l in dl]}"

def case_untouched_box_past_the_border():
    data = base(); data["annotations"][0]["bbox"] = [190, 10, 20, 20]   # x2 = 210 on a 200 px image
    d, f = make("c_border", data)
    p = Project.open(d)
    ann = p.load_annotation(d / "val/a.jpg")
    i = next(k for k, b in enumerate(ann.boxes) if b.label == "cat")
    ann.boxes[i] = ann.boxes[i].moved(x1=ann.boxes[i].x1 + 1, x2=ann.boxes[i].x2 + 1)   # move the other box
    p.save_annotation(ann)
    a5 = next(a for a in json.loads(f.read_text())["annotations"] if a["id"] == 5)
    return f"untouched annotation 5 bbox now {a5['bbox']} (was [190, 10, 20, 20])"

for name, fn in list(globals().items()):
    if name.startswith("case_") and (len(sys.argv) < 2 or name[5:] in sys.argv[1:]):
        run(name, fn)

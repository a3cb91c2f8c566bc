import os, sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import *
from yolo_studio.core.project import Project
from yolo_studio.core.annotations import Box

def make(name, yaml_text="path: .\ntrain: images/train\nval: images/val\nnc: 2\nnames: ['cat', 'dog']\n", labels=None):
    d = fresh(name)
    (d / "data.yaml").write_text(yaml_text)
    for s in ("train", "val"):
        for n in ("a", "b"):
            img(d / f"images/{s}/{s}{n}.jpg")
            (d / f"labels/{s}").mkdir(parents=True, exist_ok=True)
            (d / f"labels/{s}/{s}{n}.txt").write_bytes((labels or {}).get(f"{s}{n}", b"0 0.5 0.5 0.2 0.2\r\n1 0.25 0.25 0.1 0.1"))
    return d

def move_first(p, image, dx=1):
    ann = p.load_annotation(image)
    b = ann.boxes[0]; ann.boxes[0] = b.moved(x1=b.x1 + dx, x2=b.x2 + dx)
    p.save_annotation(ann); return ann

def case_move():
    d = make("u_move"); s0 = snap(d)
    p = Project.open(d); move_first(p, d / "images/train/traina.jpg")
    return f"changed {diff(s0, snap(d))}; new content {(d/'labels/train/traina.txt').read_bytes()!r}"

def case_open_writes():
    d = make("u_open"); s0 = snap(d); paths0 = set(d.rglob('*'))
    p = Project.open(d); p.load_all(); p.split()
    return f"changed {diff(s0, snap(d))}; new {set(d.rglob('*')) - paths0}"

def case_seg_lines():
    d = make("u_seg", labels={"traina": b"0 0.1 0.1 0.3 0.1 0.3 0.3 0.1 0.3\n"})
    p = Project.open(d); s0 = snap(d)
    try: p.load_annotation(d / "images/train/traina.jpg"); r = "loaded"
    except Exception as e: r = f"{type(e).__name__}: {str(e)[:150]}"
    return r

def case_png_jpg_same_stem():
    d = make("u_stem")
    img(d / "images/train/traina.png")
    p = Project.open(d); s0 = snap(d)
    _, probs = p.load_all()
    ann = p.load_annotation(d / "images/train/traina.png")
    ann.boxes = [Box(1, 1, 20, 20, "dog")]
    try: p.save_annotation(ann); r = "saved"
    except Exception as e: r = f"{type(e).__name__}: {str(e)[:150]}"
    return f"problems mention png: {[str(x) for x in probs if 'traina' in str(x)]}; save png: {r}; traina.jpg labels now {p.load_annotation(d/'images/train/traina.jpg').labels()}"

def case_names_gap():
    d = make("u_gap", "train: images/train\nval: images/val\nnames:\n  0: cat\n  2: dog\n")
    try: Project.open(d); return "opened"
    except Exception as e: return f"{type(e).__name__}: {str(e)[:150]}"

def case_nc_mismatch():
    d = make("u_nc", "train: images/train\nval: images/val\nnc: 5\nnames: [cat, dog]\n")
    p = Project.open(d); _, probs = p.load_all()
    return [str(x) for x in probs if "nc" in str(x)]

def case_path_outside():
    d = make("u_out", "path: ../..\ntrain: images/train\nval: /etc\nnames: [cat, dog]\n")
    p = Project.open(d); _, probs = p.load_all()
    return f"{len(p.image_paths())} images; {[str(x)[:120] for x in probs]}"

def case_rename():
    d = make("u_rename"); p = Project.open(d); s0 = snap(d); out = []
    for fn in (lambda: p.rename_class("cat", "kitty"), lambda: p.remove_class("dog")):
        try: fn(); out.append("done")
        except Exception as e: out.append(f"{type(e).__name__}")
    return f"{out}; changed {diff(s0, snap(d))}"

def case_symlink_label():
    d = make("u_link")
    ext = T / "u_link_ext.txt"; shutil.move(d / "labels/train/traina.txt", ext); os.symlink(ext, d / "labels/train/traina.txt")
    p = Project.open(d); move_first(p, d / "images/train/traina.jpg")
    return f"link kept: {(d / 'labels/train/traina.txt').is_symlink()}; ext changed: {ext.read_bytes()!r}"

def case_symlink_dir_outside():
    d = make("u_linkdir")
    ext = fresh("u_linkdir_ext"); img(ext / "x.jpg"); (ext / "x.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    os.symlink(ext, d / "images/train/ext")
    p = Project.open(d)
    return f"images {[str(x.relative_to(d)) for x in p.image_paths()]}"

def case_readonly():
    d = make("u_ro"); f = d / "labels/train/traina.txt"; os.chmod(f, 0o444); b0 = f.read_bytes()
    p = Project.open(d)
    try: move_first(p, d / "images/train/traina.jpg"); r = "saved"
    except Exception as e: r = f"{type(e).__name__}: {str(e)[:100]}"
    return f"{r}; content changed {f.read_bytes() != b0}"

def case_6field():
    d = make("u_6", labels={"traina": b"0 0.5 0.5 0.2 0.2 0.9\n1 0.25 0.25 0.1 0.1\n"})
    p = Project.open(d); s0 = snap(d)
    ann = p.load_annotation(d / "images/train/traina.jpg"); p.save_annotation(ann)
    return f"changed {diff(s0, snap(d))}; {(d/'labels/train/traina.txt').read_bytes()!r}"

def case_classes_txt():
    d = make("u_ctxt"); (d / "labels/train/classes.txt").write_text("dog\ncat\n")
    p = Project.open(d); _, probs = p.load_all()
    return [str(x)[:150] for x in probs if "classes.txt" in str(x)]

def case_list_file():
    d = make("u_list", "train: train.txt\nval: images/val\nnames: [cat, dog]\n")
    (d / "train.txt").write_text("./images/train/traina.jpg\n/etc/passwd\nimages/train/missing.jpg\n")
    p = Project.open(d); _, probs = p.load_all()
    return f"{len(p.split()[0])} train; {[str(x)[:100] for x in probs]}"

def case_dup_label_across_splits():
    d = make("u_dups", "train: [images/train, images/train/../train]\nval: images/train\nnames: [cat, dog]\n")
    p = Project.open(d); _, probs = p.load_all()
    return f"{len(p.image_paths())} images; {[str(x)[:120] for x in probs]}"

for name, fn in list(globals().items()):
    if name.startswith("case_") and (len(sys.argv) < 2 or name[5:] in sys.argv[1:]):
        run(name, fn)

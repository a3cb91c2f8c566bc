import os, sys, json, shutil, hashlib, tempfile, traceback
from pathlib import Path
import numpy as np, cv2
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
T = Path(os.environ.get("T") or tempfile.mkdtemp(prefix="reliability-2-"))

def fresh(name):
    d = T / name
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    return d

def img(path, w=200, h=100):
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((h, w, 3), 128, np.uint8))

def snap(root):
    out = {}
    for p in sorted(Path(root).rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(root))] = hashlib.sha1(p.read_bytes()).hexdigest()
    return out

def diff(a, b):
    ch = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return ch

def run(label, fn):
    try:
        r = fn()
        print(f"[{label}] {r}")
    except Exception as e:
        print(f"[{label}] EXC {type(e).__name__}: {e}"[:600])

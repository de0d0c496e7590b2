"""Whole-number reading: digitlab vs Tesseract on the same images, and latency.

    python bench/read_numbers.py [--n 200]

Targets (issue 5): simulated 2-6-digit numbers >= 90% exact; all of shared/real-photos/numbers.csv;
<= 300 ms for a 12 MP photo holding 6 digits. Tesseract (Debian's tesseract-ocr, --psm 7, digits
whitelist) is run when installed: `apt-get install tesseract-ocr`.
"""

import argparse
import csv
import shutil
import subprocess
import tempfile

import cv2
import numpy as np
from common import SHARED, table, timed

import photosim as sim
from digitlab.data import load_mnist
from digitlab.imageio import load_image
from digitlab.model import load_classifier
from digitlab.numbers import read_number


def tesseract(image: np.ndarray) -> str | None:
    exe = shutil.which("tesseract")
    if exe is None:
        return None
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        cv2.imwrite(f.name, cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2BGR))
        out = subprocess.run([exe, f.name, "-", "--psm", "7", "-c", "tessedit_char_whitelist=0123456789"],
                             capture_output=True, text=True, timeout=60).stdout
    return " ".join(out.split())


def exact(readings, labels):
    return float(np.mean([r == y for r, y in zip(readings, labels)]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=77)
    args = parser.parse_args()
    mnist = load_mnist()
    classifier = load_classifier("cnn")
    have_tess = shutil.which("tesseract") is not None
    rows = []
    sets = [("simulated numbers, typical", *sim.number_set(mnist.x_test, mnist.y_test, args.n, args.seed, "typical")),
            ("simulated numbers, clean", *sim.number_set(mnist.x_test, mnist.y_test, args.n // 2, args.seed + 1, "clean"))]
    manifest = SHARED / "numbers.csv"
    if manifest.is_file():
        entries = list(csv.DictReader(open(manifest)))
        sets.append(("real photos (numbers.csv)", [load_image(SHARED / e["file"]) for e in entries],
                     [e["label"] for e in entries]))
    for title, images, labels in sets:
        ours = [read_number(i, classifier=classifier).text.replace("\n", " ") for i in images]
        tess = [tesseract(i) for i in images] if have_tess else None
        rows.append([title, len(images), f"{exact(ours, labels):.1%}",
                     f"{exact(tess, labels):.1%}" if tess else "not installed"])
        if title.startswith("real"):
            for e, r in zip(labels, ours):
                print(f"  real: label {e!r} read {r!r}")
    rng = np.random.default_rng(1)
    picks = rng.choice(len(mnist.x_test), 6, replace=False)
    photo, label = sim.photo_number([mnist.x_test[i] for i in picks], [int(mnist.y_test[i]) for i in picks], rng,
                                    "typical", size=(3000, 4000), separators=False)
    read_number(photo, classifier=classifier)
    t, reading = timed(lambda: read_number(photo, classifier=classifier), repeat=7)
    print(table(["set", "n", "digitlab exact", "tesseract exact"], rows))
    print(f"\n12 MP photo with 6 digits: {t * 1000:.0f} ms median (target <= 300 ms); read {reading.text!r}, "
          f"label {label!r}")


if __name__ == "__main__":
    main()

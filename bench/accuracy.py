"""Digit accuracy, article vs robust pipeline, on simulated photos and sketches and the real photos.

    python bench/accuracy.py [--n 300] [--model cnn]

Targets (issue 3): typical photos >= 97%, hard >= 90%, sketches >= 99%, real photos >= 95%.
"""

import argparse
import csv

import numpy as np
from common import SHARED, table

import photosim as sim
from digitlab.data import load_mnist
from digitlab.imageio import load_image
from digitlab.model import load_classifier
from digitlab.pipeline import recognize


def score(images, labels, classifier, pipeline):
    return float(np.mean([recognize(i, pipeline=pipeline, classifier=classifier).digit == y
                          for i, y in zip(images, labels)]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300, help="simulated images per set")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    mnist = load_mnist()
    classifier = load_classifier(args.model)
    sets = [
        ("simulated photos, typical", "photo", "typical", 0.97),
        ("simulated photos, hard", "photo", "hard", 0.90),
        ("browser sketches, white", "sketch", None, 0.99),
        ("browser sketches, transparent", "sketch-transparent", None, 0.99),
    ]
    rows = []
    for k, (title, kind, condition, target) in enumerate(sets):
        images, labels = sim.digit_set(mnist.x_test, mnist.y_test, args.n, seed=args.seed + k, kind=kind,
                                       condition=condition or "typical")
        a, r = score(images, labels, classifier, "article"), score(images, labels, classifier, "robust")
        rows.append([title, len(images), f"{a:.1%}", f"{r:.1%}", f">= {target:.0%}", "ok" if r >= target else "MISSED"])
    manifest = SHARED / "digits.csv"
    if manifest.is_file():
        entries = list(csv.DictReader(open(manifest)))
        images = [load_image(SHARED / e["file"]) for e in entries]
        labels = [int(e["label"]) for e in entries]
        a, r = score(images, labels, classifier, "article"), score(images, labels, classifier, "robust")
        rows.append(["real photos (shared/real-photos)", len(images), f"{a:.1%}", f"{r:.1%}", ">= 95%",
                     "ok" if r >= 0.95 else "MISSED"])
        own = [i for i, e in enumerate(entries) if "/blog/own_" in e["file"]]
        a4 = sum(recognize(images[i], pipeline="article", classifier=classifier).digit == labels[i] for i in own)
        r4 = sum(recognize(images[i], classifier=classifier).digit == labels[i] for i in own)
        rows.append(["the article's four photos", len(own), f"{a4}/4", f"{r4}/4", "4/4", "ok" if r4 == 4 else "MISSED"])
    else:
        print(f"(no real photos at {SHARED}; set DIGITLAB_SHARED)")
    print(f"model: {args.model}")
    print(table(["set", "n", "article", "robust", "target", ""], rows))


if __name__ == "__main__":
    main()

"""Accuracy floors on seeded simulated photos and sketches, and the real photos when present."""

from pathlib import Path

import numpy as np
import pytest

import photosim as sim
from digitlab.pipeline import recognize

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-photos" / "digits.csv"


def accuracy(images, labels, classifier, pipeline="robust"):
    hits = [recognize(img, pipeline=pipeline, classifier=classifier).digit == y for img, y in zip(images, labels)]
    return float(np.mean(hits))


@pytest.mark.parametrize("kind,condition,n,floor", [
    ("photo", "typical", 80, 0.95),
    ("photo", "hard", 80, 0.85),
    ("sketch", None, 60, 0.97),
    ("sketch-transparent", None, 60, 0.97),
])
def test_simulated_accuracy_floor(mnist, cnn, kind, condition, n, floor):
    images, labels = sim.digit_set(mnist.x_test, mnist.y_test, n, seed=1234, kind=kind, condition=condition or "typical")
    robust = accuracy(images, labels, cnn)
    assert robust >= floor, robust
    if kind == "photo":
        assert accuracy(images, labels, cnn, "article") < robust - 0.2  # the article's steps are not enough


def test_article_fails_on_small_off_centre_digit_where_robust_succeeds(mnist, cnn):
    rng = np.random.default_rng(5)
    digit = mnist.x_test[np.flatnonzero(mnist.y_test == 2)[3]]
    mask = sim.pen_mask(digit, 90, 7, rng)  # a 90 px digit in a 12 MP-like frame
    canvas = np.full((1500, 2000, 3), 240, np.float32)
    canvas[1200:1200 + mask.shape[0], 1700:1700 + mask.shape[1]] *= (1 - 0.9 * mask)[..., None]
    image = canvas.astype(np.uint8)
    assert recognize(image, classifier=cnn).digit == 2
    assert recognize(image, pipeline="article", classifier=cnn).digit != 2


@pytest.mark.skipif(not REAL.is_file(), reason="../shared/real-photos is not beside this checkout")
def test_real_photos_of_several_writers(cnn):
    import csv

    from digitlab.imageio import load_image

    rows = list(csv.DictReader(open(REAL)))
    hits = {r["file"]: recognize(load_image(REAL.parent / r["file"]), classifier=cnn).digit == int(r["label"]) for r in rows}
    assert np.mean(list(hits.values())) >= 0.95
    assert all(hits[f"opensourcesblog__tensorflow-mnist/blog/own_{d}.png"] for d in (0, 3, 4, 8))

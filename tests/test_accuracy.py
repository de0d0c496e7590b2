"""Accuracy floors on seeded simulated photos and sketches, and the real photos when present."""

from pathlib import Path

import numpy as np
import pytest

import photosim as sim
from digitlab.pipeline import recognize
from digitlab.readings import predict_across_stroke_widths

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


def test_the_answer_is_read_across_stroke_widths(mnist, cnn):
    """On all 10,000 MNIST test digits the stroke-width vote changes answers and loses nothing; a drawing is answered with it."""
    plain = cnn.predict(mnist.x_test).argmax(axis=1)
    voted = predict_across_stroke_widths(mnist.x_test, cnn).argmax(axis=1)
    assert np.count_nonzero(voted != plain) > 0
    assert np.mean(voted == mnist.y_test) >= max(np.mean(plain == mnist.y_test), 0.997)

    image = sim.sketch_digit(mnist.x_test[7], np.random.default_rng(7), side=600)
    result = recognize(image, classifier=cnn, source="drawing")
    expected = predict_across_stroke_widths(result.model_input[None], cnn)[0]
    np.testing.assert_allclose(np.log(result.probabilities), np.log(expected), atol=1e-3)  # every class, not only the top
    assert [a.confidence for a in result.alternatives if a.chosen] == pytest.approx([result.confidence], abs=1e-5)

    photo = sim.photo_digit(mnist.x_test[7], np.random.default_rng(7), "typical")
    result = recognize(photo, classifier=cnn, source="photo")  # a photo's strokes are measured: read as it is
    np.testing.assert_allclose(np.log(result.probabilities), np.log(cnn.predict(result.model_input[None])[0]), atol=1e-3)


@pytest.mark.skipif(not REAL.is_file(), reason="../shared/real-photos is not beside this checkout")
def test_real_photos_of_several_writers(cnn):
    import csv

    from digitlab.imageio import load_image

    rows = list(csv.DictReader(open(REAL)))
    hits = {r["file"]: recognize(load_image(REAL.parent / r["file"]), classifier=cnn).digit == int(r["label"]) for r in rows}
    assert np.mean(list(hits.values())) >= 0.95
    assert all(hits[f"opensourcesblog__tensorflow-mnist/blog/own_{d}.png"] for d in (0, 3, 4, 8))

"""Model views: which evidence map explains better, neighbour purity, and the latency of each view.

    python bench/model_views.py [--digits 200]

Deletion curves: erase each digit's pixels in the order a map ranks them (most supporting first)
and follow the predicted class's probability; the lower the mean over the curve (0-100% of the ink
erased in 10% steps), the better the map found the evidence. A random order is the baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from digitlab import mnist_index, model_views  # noqa: E402
from digitlab.data import load_mnist  # noqa: E402
from digitlab.model import load_classifier  # noqa: E402

DELETION_STEPS = np.linspace(0, 1, 11)
STROKE_LEVEL = 0.5  # a pixel at least half-bright is on the stroke


def sample(mnist, per_class: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(mnist.y_test == d), per_class, replace=False) for d in range(10)])


def deletion_curve(classifier, image: np.ndarray, order: np.ndarray, digit: int) -> np.ndarray:
    ink = int(np.count_nonzero(image))
    batch = []
    for fraction in DELETION_STEPS:
        erased = image.copy().reshape(-1)
        erased[order[: round(fraction * ink)]] = 0
        batch.append(erased.reshape(image.shape))
    return classifier.predict(np.stack(batch))[:, digit]


def median_ms(func, repeats: int = 15) -> float:
    func()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--digits", type=int, default=200)
    args = parser.parse_args()
    mnist = load_mnist()
    cnn = load_classifier("cnn")
    chosen = sample(mnist, max(1, args.digits // 10))
    rng = np.random.default_rng(1)

    curves = {"occlusion": [], "gradient": [], "random": []}
    stroke_mass = {"occlusion": [], "gradient": []}
    stroke_top = {"occlusion": [], "gradient": []}
    counter = {"occlusion": [], "gradient": []}
    for i in chosen:
        image = mnist.x_test[i].astype(np.float32) / 255
        for method in model_views.EVIDENCE_METHODS:
            found = model_views.evidence(image, cnn, method=method)
            order = np.argsort(-found.values.reshape(-1), kind="stable")
            curves[method].append(deletion_curve(cnn, image, order, found.digit))
            positive = np.clip(found.values, 0, None)
            stroke_mass[method].append(positive[image >= STROKE_LEVEL].sum() / max(positive.sum(), 1e-12))
            stroke = image.reshape(-1) > 0
            stroke_top[method].append(np.mean(stroke[order[: np.count_nonzero(stroke)]]))
            counter[method].append(-np.clip(found.values, None, 0).sum() / max(positive.sum(), 1e-12))
        ink = np.flatnonzero(image.reshape(-1))
        order = np.concatenate([rng.permutation(ink), np.flatnonzero(image.reshape(-1) == 0)])
        curves["random"].append(deletion_curve(cnn, image, order, found.digit))

    print(f"Deletion curves on {len(chosen)} MNIST test digits (CNN), probability of the predicted class")
    print(f"{'order':<10} {'mean (AUC)':>10} " + " ".join(f"{int(f * 100):>5}%" for f in DELETION_STEPS[1::2]))
    for name, rows in curves.items():
        mean = np.mean(rows, axis=0)
        print(f"{name:<10} {mean.mean():>10.3f} " + " ".join(f"{v:>6.3f}" for v in mean[1::2]))
    print("\nMeans over the digits: share of positive evidence on pixels >= "
          f"{STROKE_LEVEL}; share of ink among the map's top-|ink| pixels; negative / positive evidence")
    for name in stroke_mass:
        print(f"{name:<10} {np.mean(stroke_mass[name]):>6.1%} {np.mean(stroke_top[name]):>6.1%} "
              f"{np.mean(counter[name]):>6.2f}")

    index = mnist_index.load_index()
    purity = []
    for i in chosen:
        found = mnist_index.nearest(mnist.x_test[i], k=8)
        purity.append(np.mean(found.labels == mnist.y_test[i]))
    print(f"\nNearest 8 MNIST training digits share the test digit's label: {np.mean(purity):.1%} "
          f"(index {len(index.labels)} digits, {mnist_index.index_paths()[0].stat().st_size / 1e6:.2f} MB)")

    image = mnist.x_test[chosen[0]].astype(np.float32) / 255
    print("\nLatency per input (median of 15, ms)")
    rows = {
        "evidence, occlusion": lambda: model_views.evidence(image, cnn, method="occlusion"),
        "evidence, gradient x input": lambda: model_views.evidence(image, cnn, method="gradient"),
        "evidence, occlusion (softmax model)": lambda: model_views.evidence(image, load_classifier("softmax")),
        "nearest 8 MNIST digits": lambda: mnist_index.nearest(image, k=8),
        "softmax opened": lambda: model_views.softmax_opened(image),
        "explain (all, with why-not)": lambda: model_views.explain(image, cnn, why_not=1),
    }
    for name, func in rows.items():
        print(f"{name:<38} {median_ms(func):>7.1f}")


if __name__ == "__main__":
    main()

"""Real photos and drawings under camera-like changes: robustness that does not come from the simulator.

    python bench/stress.py [--changes none,dim,...]

Each real dev digit (../shared/real-photos and real-photos-2) is read as it is and after one
change a phone or a scanner makes (dim, washed-out light; a shadow across the page; a tilt;
blur; heavy JPEG; a thumbnail). No constant is tuned on these; they show where the
pipeline is brittle.
"""

import argparse
import csv
import time

import cv2
import numpy as np
from common import SHARED, table

from digitlab.imageio import load_image
from digitlab.model import load_classifier
from digitlab.photo_stages import working_size
from digitlab.pipeline import recognize

MANIFESTS = ["real-photos/digits.csv", "real-photos-2/digits.csv"]


def _tilt(image, degrees):
    h, w = image.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)


def _jpeg(image, quality):
    _, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def _shadow_ramp(image):
    light = np.linspace(0.35, 1.0, image.shape[1])[None, :, None]  # dark on the left, full light on the right
    return np.clip(image * light, 0, 255).astype(np.uint8)


def _dim(image):
    """A third of the contrast, lifted towards grey: a dim, washed-out photo (ink ~25-50 levels below the paper)."""
    return np.clip(168 + (image.astype(np.float32) - 128) * 0.35, 0, 255).astype(np.uint8)


def _blur(image):
    return cv2.GaussianBlur(image, (0, 0), max(1.0, max(image.shape[:2]) / 300))


CHANGES = {
    "none": lambda im: im,
    "dim and washed out": _dim,
    "shadow ramp": _shadow_ramp,
    "tilted +12 deg": lambda im: _tilt(im, 12),
    "tilted -12 deg": lambda im: _tilt(im, -12),
    "out of focus": _blur,
    "JPEG quality 20": lambda im: _jpeg(im, 20),
    "thumbnail 240 px": lambda im: working_size(im, 240),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", default=",".join(CHANGES), help="comma-separated, from: " + ", ".join(CHANGES))
    args = parser.parse_args()
    classifier = load_classifier()
    root = SHARED.parent
    digits = []
    for manifest in MANIFESTS:
        path = root / manifest
        if not path.is_file():
            print(f"(missing: {path})")
            continue
        for e in csv.DictReader(open(path)):
            kind = "phone photos" if e["kind"] == "phone-photo" else "canvas" if "canvas" in e["kind"] else "other"
            digits.append((load_image(path.parent / e["file"])[..., :3], int(e["label"]), kind))
    kinds = sorted({k for _, _, k in digits}, key=["phone photos", "canvas", "other"].index)
    counts = {k: sum(kind == k for _, _, kind in digits) for k in kinds}
    rows = []
    for name in args.changes.split(","):
        change = CHANGES[name]
        started = time.perf_counter()
        right = {k: 0 for k in kinds}
        for image, label, kind in digits:
            right[kind] += recognize(change(image), classifier=classifier).digit == label
        per_image = (time.perf_counter() - started) / max(1, len(digits))
        rows.append([name, f"{sum(right.values()) / len(digits):.1%}",
                     *[f"{right[k] / counts[k]:.1%} ({right[k]}/{counts[k]})" for k in kinds], f"{per_image * 1000:.0f} ms"])
    print(f"{len(digits)} real digits from {', '.join(MANIFESTS)}")
    print(table(["change", "all", *kinds, "time/image"], rows))


if __name__ == "__main__":
    main()

"""Write the app's example images to assets/examples/, all made by digitlab's simulator (seeded).

    python scripts/make_examples.py
"""

from pathlib import Path

import cv2
import numpy as np

import photosim as sim
from digitlab.data import load_mnist

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "examples"


def save(name: str, image: np.ndarray) -> None:
    code = cv2.COLOR_RGBA2BGRA if image.shape[2] == 4 else cv2.COLOR_RGB2BGR
    params = [cv2.IMWRITE_JPEG_QUALITY, 88] if name.endswith(".jpg") else []
    cv2.imwrite(str(OUT / name), cv2.cvtColor(image, code), params)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    mnist = load_mnist()
    x, y = mnist.x_test, mnist.y_test
    rng = np.random.default_rng(42)
    for k, (index, condition) in enumerate([(11, "typical"), (23, "typical"), (61, "hard"), (84, "hard")]):
        save(f"photo_{condition}_{k}_label{y[index]}.jpg", sim.photo_digit(x[index], rng, condition))
    save(f"sketch_white_label{y[7]}.png", sim.sketch_digit(x[7], rng, side=560))
    save(f"sketch_transparent_label{y[9]}.png", sim.sketch_digit(x[9], rng, side=560, transparent=True))
    for k, (indices, lines) in enumerate([([3, 5, 8, 13], 1), ([17, 19, 21, 25, 28, 30], 2)]):
        image, label = sim.photo_number([x[i] for i in indices], [int(y[i]) for i in indices], rng, "typical",
                                        lines=lines)
        save(f"number_{k}_label{label.replace(' ', '-')}.jpg", image)
    for p in sorted(OUT.iterdir()):
        print(p.relative_to(ROOT), p.stat().st_size // 1024, "KB")


if __name__ == "__main__":
    main()

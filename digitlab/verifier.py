"""The verifier: a small model that judges whether a 28x28 input is a digit at all.

It has eleven outputs, the ten digits and "not a digit"; learning the digits apart teaches
it every digit's shape, so it accepts a rare 1 or 7 that a digit-or-not model would doubt.
Its judgement is ``1 - P(not a digit)``.

The digit classifier cannot say "none of these": it calls a blob a 0 at 99%. The robust
pipeline tries several hypotheses (polarity, lighting, which marks are the digit) and lets
the verifier judge their final images; the number reader asks it whether a group of marks
is one digit. It is trained on MNIST digits (as they are, and redrawn through the digit
stages, so the stages' own look is no clue) against generated non-digits (``negatives``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import time
from pathlib import Path

import numpy as np

from . import negatives
from .model import (INPUT_SHAPE, MODELS_DIR, Classifier, _keras, _tf, build_augmenter, load_saved_model,
                    save_model_file, to_model_input)

VERIFIER_NAME = "verifier"
# A hypothesis whose image scores below this is treated as "not a digit".
DIGIT_THRESHOLD = 0.5


NOT_A_DIGIT = 10  # the eleventh class


def build_verifier():
    """Two conv blocks and a dense head (~0.1M parameters): ten digits and "not a digit"."""
    keras = _keras()
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input((*INPUT_SHAPE, 1)),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(64, activation="relu"), layers.Dropout(0.3),
            layers.Dense(NOT_A_DIGIT + 1, activation="softmax"),
        ],
        name=VERIFIER_NAME,
    )


def mnist_frame(mask: np.ndarray) -> np.ndarray | None:
    """A mark at photo scale through the robust digit stages: the 28x28 uint8 the models would see."""
    from .hypotheses import run_stages
    from .pipeline import ROBUST_DIGIT_STAGES

    trail, reason = run_stages(mask, ROBUST_DIGIT_STAGES)
    return None if reason is not None else trail[-1][1]


def _frames(digits: np.ndarray, digit_labels: np.ndarray, chosen, draw):
    """(frames, labels): each chosen digit drawn at photo scale by ``draw`` and run through the digit stages."""
    images, labels = [], []
    for i in chosen:
        frame = mnist_frame(draw(digits[i]))
        if frame is not None:
            images.append(frame)
            labels.append(int(digit_labels[i]))
    return images, labels


def pen_drawn_frames(digits: np.ndarray, digit_labels: np.ndarray, n: int, rng: np.random.Generator):
    """(frames, labels): ``n`` MNIST digits traced with a round pen of one width, as a canvas draws them, through the digit stages."""
    return _frames(digits, digit_labels, rng.choice(len(digits), n, replace=False), lambda d: negatives.pen_drawn(d, rng))


def make_training_set(digits: np.ndarray, digit_labels: np.ndarray, n_redrawn: int, n_negatives: int, seed: int):
    """(images uint8 (N, 28, 28), labels 0-9 or ``NOT_A_DIGIT``): MNIST redrawn through the digit stages, and generated non-digits."""
    rng = np.random.default_rng(seed)
    images, labels = _frames(digits, digit_labels, rng.choice(len(digits), n_redrawn, replace=False),
                             lambda d: negatives.upscaled_mask(d, rng.uniform(0.3, 0.6), rng))
    # Scanned strokes vary in width; drawn ones do not: half as many again, drawn with a pen.
    pen_images, pen_labels = pen_drawn_frames(digits, digit_labels, n_redrawn // 2, rng)
    ones = np.flatnonzero(digit_labels == 1)  # the serifed 1 that MNIST lacks:
    serif_images, serif_labels = _frames(digits, digit_labels, rng.choice(ones, n_redrawn // 10, replace=False),
                                         lambda d: negatives.serif_one(d, rng))
    images += pen_images + serif_images
    labels += pen_labels + serif_labels
    for k in range(n_negatives):
        make = negatives.GENERATORS[k % len(negatives.GENERATORS)]
        mask = make(rng, digits)
        while negatives.looks_like_a_one(mask):
            mask = make(rng, digits)
        frame = mnist_frame(mask) if mask.any() else np.zeros(INPUT_SHAPE, np.uint8)
        images.append(np.zeros(INPUT_SHAPE, np.uint8) if frame is None else frame)
        labels.append(NOT_A_DIGIT)
    return np.stack(images).astype(np.uint8), np.array(labels, np.int32)


def train_verifier(data, epochs: int = 5, out_dir=MODELS_DIR, seed: int = 1, n_redrawn: int = 30000,
                   n_negatives: int = 60000, verbose: int = 2) -> dict:
    """Train the verifier on MNIST's training digits and generated negatives; save it with its card."""
    keras = _keras()
    tf = _tf()
    keras.utils.set_random_seed(seed)
    started = time.time()
    redrawn, labels = make_training_set(data.x_train, data.y_train, n_redrawn, n_negatives, seed)
    x = np.concatenate([data.x_train, redrawn])
    y = np.concatenate([data.y_train.astype(np.int32), labels])
    generated_seconds = time.time() - started
    dataset = tf.data.Dataset.from_tensor_slices((to_model_input(x), y)).shuffle(len(x), seed=seed).batch(128)
    augmenter = build_augmenter(seed)
    dataset = dataset.map(lambda a, b: (augmenter(a, training=True), b), num_parallel_calls=tf.data.AUTOTUNE)
    model = build_verifier()
    steps = epochs * int(np.ceil(len(x) / 128))
    schedule = keras.optimizers.schedules.CosineDecay(0.002, decay_steps=steps, alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(dataset.prefetch(tf.data.AUTOTUNE), epochs=epochs, verbose=verbose)
    seconds = time.time() - started

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{VERIFIER_NAME}.keras"
    save_model_file(build_verifier(), model, path)
    report = held_out_report(model, data, seed + 1000)
    card = {
        "name": VERIFIER_NAME,
        "file": path.name,
        "task": "is this 28x28 image a digit? 11 classes: 0-9 and 10 = not a digit; judgement = 1 - P(10)",
        "held_out": report,
        "parameters": int(model.count_params()),
        "file_bytes": path.stat().st_size,
        "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "epochs": epochs,
        "training_images": {"mnist_train": int(len(data.x_train)),
                            "mnist_redrawn": int((labels != NOT_A_DIGIT).sum()),
                            "generated_negatives": int((labels == NOT_A_DIGIT).sum())},
        "negative_kinds": [g.__name__ for g in negatives.GENERATORS],
        "training_seconds": round(seconds, 1),
        "data_generation_seconds": round(generated_seconds, 1),
        "seed": seed,
        "training_data_sha256": data.checksum(),
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__},
    }
    (out_dir / f"{VERIFIER_NAME}.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def held_out_report(model, data, seed: int, n: int = 6000) -> dict:
    """Accuracy on digits and negatives the verifier never saw: MNIST test (as is and redrawn), fresh negatives."""
    redrawn, labels = make_training_set(data.x_test, data.y_test, n // 2, n, seed)

    def accept(images):
        probs = model.predict(to_model_input(images), batch_size=1000, verbose=0)
        return 1.0 - probs[:, NOT_A_DIGIT] >= DIGIT_THRESHOLD

    negative = redrawn[labels == NOT_A_DIGIT]
    pen_images, _ = pen_drawn_frames(data.x_test, data.y_test, n // 2, np.random.default_rng(seed + 1))
    kinds = [g.__name__ for g in negatives.GENERATORS]
    per_kind = {kind: round(float(1 - accept(negative[k::len(kinds)]).mean()), 4) for k, kind in enumerate(kinds)}
    return {
        "mnist_test_accepted": round(float(accept(data.x_test).mean()), 4),
        "mnist_test_redrawn_accepted": round(float(accept(redrawn[labels != NOT_A_DIGIT]).mean()), 4),
        "mnist_test_pen_drawn_accepted": round(float(accept(np.stack(pen_images)).mean()), 4),
        "negatives_rejected": round(float(1 - accept(negative).mean()), 4),
        "negatives_rejected_by_kind": per_kind,
        "n_negatives": int(len(negative)),
    }


class Verifier:
    """The loaded verifier: the classifier's fast call path, read as "how sure is it a digit"."""

    def __init__(self, model, card: dict | None = None):
        self.classifier = Classifier(model, VERIFIER_NAME, card)
        self.model, self.card = model, self.classifier.card

    def digit_scores(self, images: np.ndarray) -> np.ndarray:
        """For each image of a batch (N, 28, 28), how sure the verifier is that it is a digit (0..1)."""
        return self.scores_from(self.classifier.predict(images))

    @staticmethod
    def scores_from(probabilities: np.ndarray) -> np.ndarray:
        """``digit_scores`` from the verifier's own class probabilities (as ``predict_together`` returns them)."""
        return 1.0 - probabilities[:, NOT_A_DIGIT]


@functools.lru_cache(maxsize=None)
def load_verifier(models_dir: str | None = None) -> Verifier:
    verifier = Verifier(*load_saved_model(VERIFIER_NAME, models_dir))
    verifier.digit_scores(np.zeros(INPUT_SHAPE, np.float32))  # trace now, not on the first request
    return verifier

"""Your digit among MNIST: the nearest MNIST training digits in the CNN's penultimate-layer space.

``python -m digitlab index`` builds the shipped index from the MNIST loader: a stratified, seeded
subset of the training digits, their features from the layer that feeds the CNN's last Dense
(L2-normalised, float16), their 28x28 images and labels, and every class's mean image over the
whole training set. A small JSON card beside it names the model file (SHA-256) the features
belong to; an index built for another model file is refused with a message saying how to rebuild.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import DigitlabError
from .model import MODELS_DIR, NUM_CLASSES, Classifier, _keras, load_classifier

INDEX_MODEL = "cnn"
INDEX_PER_CLASS = 1000  # 10,000 digits: a few MB shipped, and ~99% of 8 neighbours share the query's class
INDEX_SEED = 0
EMBED_BATCH = 1000
TILE = 84  # neighbour pictures are MNIST 28x28 shown 3x


def index_paths(models_dir: str | Path | None = None) -> tuple[Path, Path]:
    folder = Path(models_dir) if models_dir else MODELS_DIR
    return folder / f"{INDEX_MODEL}_index.npz", folder / f"{INDEX_MODEL}_index.json"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _normalised(features: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.maximum(norms, 1e-12)


def build_index(data, models_dir: str | Path | None = None, per_class: int = INDEX_PER_CLASS,
                seed: int = INDEX_SEED) -> dict:
    """Embed ``per_class`` training digits per class with the CNN in ``models_dir``; write the index and its card."""
    from .model_views import ModelHeads

    npz_path, card_path = index_paths(models_dir)
    model_path = npz_path.parent / f"{INDEX_MODEL}.keras"
    if not model_path.is_file():
        raise DigitlabError(f"{model_path} is missing; train it with `python -m digitlab train {INDEX_MODEL}`")
    # Loaded afresh, not through load_classifier's cache: training may just have replaced the file.
    heads = ModelHeads(Classifier(_keras().saving.load_model(model_path, compile=False), INDEX_MODEL))
    rng = np.random.default_rng(seed)
    chosen = []
    for digit in range(NUM_CLASSES):
        members = np.flatnonzero(data.y_train == digit)
        if len(members) < per_class:
            raise DigitlabError(f"MNIST has only {len(members)} training images of {digit}; asked for {per_class}")
        chosen.append(rng.choice(members, per_class, replace=False))
    chosen = np.sort(np.concatenate(chosen))
    images, labels = data.x_train[chosen], data.y_train[chosen].astype(np.uint8)
    features = np.concatenate([heads(images[i:i + EMBED_BATCH])[0] for i in range(0, len(images), EMBED_BATCH)])
    class_means = np.stack([data.x_train[data.y_train == d].mean(0) for d in range(NUM_CLASSES)])
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        npz_path,
        features=_normalised(features).astype(np.float16),
        images=images,
        labels=labels,
        train_indices=chosen.astype(np.int32),
        class_means=np.round(class_means).astype(np.uint8),
    )
    card = {
        "model": INDEX_MODEL,
        "model_file": model_path.name,
        "model_sha256": _sha256(model_path),
        "layer": "input of the last Dense layer (penultimate features)",
        "feature_size": int(features.shape[1]),
        "digits": int(len(chosen)),
        "per_class": per_class,
        "seed": seed,
        "class_means_from": f"all {len(data.y_train)} training images",
        "training_data_sha256": data.checksum(),
        "file": npz_path.name,
        "file_bytes": npz_path.stat().st_size,
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    return card


@dataclass(frozen=True)
class MnistIndex:
    features: np.ndarray  # (N, F) float32, unit length
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) uint8
    train_indices: np.ndarray  # (N,) positions in MNIST's training set
    class_means: np.ndarray  # (10, 28, 28) uint8, mean training image of each class
    card: dict

    def nearest(self, features: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the ``k`` most similar digits (cosine similarity, best first) and their similarities."""
        query = _normalised(np.asarray(features, np.float32).reshape(1, -1))[0]
        similarity = self.features @ query
        k = max(1, min(int(k), len(similarity)))
        rows = np.argpartition(-similarity, k - 1)[:k]
        rows = rows[np.argsort(-similarity[rows])]
        return rows, similarity[rows]


@functools.lru_cache(maxsize=2)
def load_index(models_dir: str | None = None) -> MnistIndex:
    """The shipped index (cached), refused if it was built for another model file."""
    npz_path, card_path = index_paths(models_dir)
    rebuild = "build it with `python -m digitlab index`"
    if not npz_path.is_file() or not card_path.is_file():
        raise DigitlabError(f"the MNIST neighbour index {npz_path} is missing; {rebuild}")
    card = json.loads(card_path.read_text())
    model_path = npz_path.parent / card.get("model_file", f"{INDEX_MODEL}.keras")
    if not model_path.is_file() or _sha256(model_path) != card.get("model_sha256"):
        raise DigitlabError(f"the MNIST neighbour index was built for another {model_path.name}; {rebuild}")
    with np.load(npz_path) as stored:
        return MnistIndex(stored["features"].astype(np.float32), stored["images"], stored["labels"],
                          stored["train_indices"], stored["class_means"], card)


@dataclass(frozen=True)
class Neighbours:
    """The MNIST training digits the CNN finds most like one input."""

    images: np.ndarray  # (k, 28, 28) uint8, most similar first
    labels: np.ndarray  # (k,)
    similarities: np.ndarray  # (k,) cosine similarity of penultimate features, 1 = same
    train_indices: np.ndarray  # (k,) positions in MNIST's training set
    predicted: int  # the CNN's class for the input
    class_mean: np.ndarray  # (28, 28) uint8: the mean MNIST training image of ``predicted``
    picture: np.ndarray  # RGB strip: the input, the class mean, then the neighbours with labels

    @property
    def agreement(self) -> float:
        """Fraction of the neighbours labelled with the predicted class."""
        return float(np.mean(self.labels == self.predicted))


def _tile(image: np.ndarray, caption: str) -> np.ndarray:
    gray = image if image.dtype == np.uint8 else (np.clip(image, 0, 1) * 255).astype(np.uint8)
    pic = cv2.resize(gray, (TILE, TILE), interpolation=cv2.INTER_NEAREST)
    canvas = np.full((TILE + 18, TILE, 3), 255, np.uint8)
    canvas[18:] = pic[..., None]
    cv2.putText(canvas, caption, (2, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return np.pad(canvas, ((2, 2), (2, 2), (0, 0)), constant_values=200)


def nearest(model_input, k: int = 8, models_dir: str | None = None) -> Neighbours:
    """The ``k`` nearest MNIST training digits to a 28x28 input, in the CNN's penultimate-layer space."""
    from .model_views import model_heads, softmax

    index = load_index(models_dir)
    if model_input is None:
        raise DigitlabError("no digit to compare: preprocessing found none")
    features, logits = model_heads(load_classifier(INDEX_MODEL, models_dir))(model_input)
    rows, similarities = index.nearest(features[0], k)
    predicted = int(np.argmax(softmax(logits[0])))
    labels = index.labels[rows]
    tiles = [_tile(np.asarray(model_input), "yours"), _tile(index.class_means[predicted], f"mean {predicted}")]
    tiles += [_tile(index.images[r], f"{lab} ({s:.2f})") for r, lab, s in zip(rows, labels, similarities)]
    return Neighbours(index.images[rows], labels, similarities, index.train_indices[rows], predicted,
                      index.class_means[predicted], np.concatenate(tiles, axis=1))

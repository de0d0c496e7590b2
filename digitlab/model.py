"""The two shipped models, their training recipe and fast inference.

The input contract, written once: ``INPUT_SHAPE`` images, float32 in 0..1,
a white digit on black, size-normalised and centred like MNIST.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import logging
import os
import platform
import threading
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # hide CUDA/oneDNN chatter on CPU-only machines
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np

from .errors import DigitlabError

INPUT_SIDE = 28
INPUT_SHAPE = (INPUT_SIDE, INPUT_SIDE)
NUM_CLASSES = 10
MODEL_NAMES = ("softmax", "cnn")
DEFAULT_MODEL = "cnn"
MODELS_DIR = Path(__file__).resolve().parent.parent / "assets" / "models"


def _tf():
    """Import TensorFlow with its C++ start-up chatter (CUDA, oneDNN) kept off the terminal.

    TF 2.21 logs through absl before TF_CPP_MIN_LOG_LEVEL is read, so the only reliable
    silencer is to point file descriptor 2 elsewhere for the duration of the import.
    """
    import sys

    if "tensorflow" not in sys.modules:
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            sys.stderr.flush()
            os.dup2(devnull, 2)
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(devnull)
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    return tf


def to_model_input(images: np.ndarray) -> np.ndarray:
    """Check and convert a batch (N, 28, 28) or one image (28, 28) to float32 0..1, shape (N, 28, 28, 1)."""
    images = np.asarray(images)
    if images.shape == INPUT_SHAPE:
        images = images[None]
    if images.ndim != 3 or images.shape[1:] != INPUT_SHAPE:
        raise DigitlabError(f"model input must be (N, 28, 28) or (28, 28), got {images.shape}")
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    images = np.clip(np.nan_to_num(images.astype(np.float32)), 0.0, 1.0)
    return images[..., None]


def _keras():
    """Keras, imported after TensorFlow has been imported quietly."""
    _tf()
    import keras

    return keras


# --- architectures ---------------------------------------------------------------------------


def build_softmax():
    """The article's model: softmax regression, 784 inputs -> 10 classes."""
    keras = _keras()
    return keras.Sequential(
        [
            keras.Input((*INPUT_SHAPE, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="softmax",
    )


def build_cnn():
    """A small VGG-style CNN (~0.3M parameters): three conv blocks with batch norm, then a dense head."""
    keras = _keras()
    layers = keras.layers

    def conv(filters):
        # Conv without bias: the batch norm right after supplies the offset.
        return [layers.Conv2D(filters, 3, padding="same", use_bias=False), layers.BatchNormalization(), layers.ReLU()]

    return keras.Sequential(
        [
            keras.Input((*INPUT_SHAPE, 1)),
            *conv(32), *conv(32), layers.MaxPooling2D(), layers.Dropout(0.1),   # 14x14
            *conv(64), *conv(64), layers.MaxPooling2D(), layers.Dropout(0.15),  # 7x7
            *conv(128), layers.MaxPooling2D(), layers.Dropout(0.2),  # 3x3
            layers.Flatten(),
            layers.Dense(128, use_bias=False), layers.BatchNormalization(), layers.ReLU(),
            layers.Dropout(0.3),
            layers.Dense(NUM_CLASSES, activation="softmax"),
        ],
        name="cnn",
    )


BUILDERS = {"softmax": build_softmax, "cnn": build_cnn}


# --- augmentation ------------------------------------------------------------------------------


def build_augmenter(seed: int):
    """Random geometry and stroke-width changes, so the model tolerates what preprocessing leaves.

    Real digits reach the model slightly rotated, sheared, scaled, off by a pixel and with
    strokes thinner or thicker than MNIST's; the augmentation shows it all of those.
    """
    keras = _keras()
    layers = keras.layers
    tf = _tf()

    class RandomStrokeWidth(layers.Layer):
        """Per image: thin (grey erosion), thicken (grey dilation) or keep the strokes, a third each."""

        def __init__(self, seed, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, x, training=True):
            if not training:
                return x
            dilated = tf.nn.max_pool2d(x, 2, 1, "SAME")
            eroded = -tf.nn.max_pool2d(-x, 2, 1, "SAME")
            choice = keras.random.randint((tf.shape(x)[0], 1, 1, 1), 0, 3, seed=self.seed_generator)
            return tf.where(choice == 0, dilated, tf.where(choice == 1, eroded, x))

    return keras.Sequential(
        [
            layers.RandomRotation(12 / 360, fill_mode="constant", seed=seed),
            layers.RandomShear(x_factor=0.15, y_factor=0.05, fill_mode="constant", seed=seed + 1),
            layers.RandomZoom((-0.12, 0.12), fill_mode="constant", seed=seed + 2),
            layers.RandomTranslation(2 / 28, 2 / 28, fill_mode="constant", seed=seed + 3),
            RandomStrokeWidth(seed + 4),
        ],
        name="augment",
    )


# --- training ----------------------------------------------------------------------------------

TRAIN_DEFAULTS = {
    "softmax": {"epochs": 10, "batch_size": 128, "learning_rate": 0.01, "augment": False},
    "cnn": {"epochs": 30, "batch_size": 128, "learning_rate": 0.003, "augment": True},
}


def train(
    name: str,
    data,
    epochs: int | None = None,
    out_dir: str | os.PathLike = MODELS_DIR,
    seed: int = 1,
    limit: int | None = None,
    verbose: int = 2,
):
    """Train model ``name`` on MNIST ``data``, save ``<name>.keras`` and ``<name>.json``; return the card."""
    if name not in BUILDERS:
        raise DigitlabError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
    keras = _keras()
    tf = _tf()
    keras.utils.set_random_seed(seed)
    cfg = dict(TRAIN_DEFAULTS[name])
    if epochs is not None:
        cfg["epochs"] = epochs
    x_train, y_train = data.x_train, data.y_train
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    x_train, x_test = to_model_input(x_train), to_model_input(data.x_test)

    dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train.astype("int32")))
    dataset = dataset.shuffle(len(x_train), seed=seed).batch(cfg["batch_size"])
    if cfg["augment"]:
        augmenter = build_augmenter(seed)
        dataset = dataset.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.prefetch(tf.data.AUTOTUNE)

    model = BUILDERS[name]()
    steps = cfg["epochs"] * int(np.ceil(len(x_train) / cfg["batch_size"]))
    # One-cycle style: warm up for 1/10 of the steps, then cosine decay to ~0.
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, steps - steps // 10), warmup_target=cfg["learning_rate"],
        warmup_steps=max(1, steps // 10), alpha=0.002,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    started = time.time()
    model.fit(
        dataset, epochs=cfg["epochs"], validation_data=(x_test, data.y_test), validation_freq=max(1, cfg["epochs"] // 5),
        verbose=verbose, shuffle=False,  # the dataset is shuffled above
    )
    seconds = time.time() - started
    probs = model.predict(x_test, batch_size=1000, verbose=0)
    accuracy = float(np.mean(probs.argmax(1) == data.y_test))

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.keras"
    save_model_file(BUILDERS[name](), model, path)
    card = {
        "name": name,
        "file": path.name,
        "mnist_test_accuracy": round(accuracy, 4),
        "mnist_test_errors": int(np.sum(probs.argmax(1) != data.y_test)),
        "parameters": int(model.count_params()),
        "file_bytes": path.stat().st_size,
        "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "epochs": cfg["epochs"],
        "batch_size": cfg["batch_size"],
        "learning_rate": cfg["learning_rate"],
        "augmentation": cfg["augment"],
        "training_images": int(len(x_train)),
        "training_seconds": round(seconds, 1),
        "seed": seed,
        "training_data_sha256": data.checksum(),
        "training_data_source": data.source,
        "input": "28x28 float32 0..1, white digit on black, MNIST-normalised",
        "versions": {
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "numpy": np.__version__,
        },
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
    }
    (out_dir / f"{name}.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def save_model_file(fresh, trained, path: Path) -> None:
    """Save only architecture and weights: ``fresh`` (an uncompiled model of the same architecture)
    gets ``trained``'s weights, so no optimizer state is written (Keras 3's ``save`` has no
    include_optimizer switch; Adam's state would triple the file)."""
    fresh.set_weights(trained.get_weights())
    fresh.save(path)


# --- inference ---------------------------------------------------------------------------------


# Batches up to this size go through LiteRT; bigger ones (a test set) through TensorFlow, whose batched kernels are
# as fast there, and the interpreter's buffers would stay the size of the largest batch.
LITE_MAX_BATCH = 256
# The traced TensorFlow function reads at most this many images at once: its activations for 30,000 digits (the test
# set read across stroke widths) aborted TensorFlow with std::bad_alloc on a 24 GB machine.
TF_MAX_BATCH = 8192
_LITE_COMPILING = threading.Lock()


class _LiteModel:
    """A model compiled for LiteRT's CPU interpreter (XNNPACK kernels).

    A picture's readings come in batches of 1-40 images; there a TensorFlow call costs 3 ms
    and more in fixed overhead and the interpreter is 2-7x faster, with the same outputs (to 2e-6).
    The interpreter is not thread-safe: calls take turns.
    """

    def __init__(self, model):
        tf = _tf()
        with contextlib.redirect_stdout(io.StringIO()):  # Keras prints the SavedModel it exports on the way
            blob = tf.lite.TFLiteConverter.from_keras_model(model).convert()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TF 2.21 points to ai-edge-litert, the same interpreter as a package
            self._interpreter = tf.lite.Interpreter(model_content=blob, num_threads=os.cpu_count() or 1)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = None
        self._lock = threading.Lock()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:
            if len(batch) != self._batch:
                self._interpreter.resize_tensor_input(self._input, batch.shape)
                self._interpreter.allocate_tensors()
                self._batch = len(batch)
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output).copy()


class Classifier:
    """A loaded model with fast call paths: LiteRT for a picture's small batches, one traced function for big ones.

    ``model.predict`` builds a data pipeline per call (~45 ms); a ``tf.function`` call costs ~3 ms,
    the LiteRT interpreter ~0.4 ms for one image, which is what a live sketchpad needs. Without
    TensorFlow's LiteRT converter (``DIGITLAB_LITE=0``, or a TensorFlow without ``tf.lite``), every batch takes the traced function.
    """

    def __init__(self, model, name: str, card: dict | None = None):
        tf = _tf()
        self.model = model
        self.name = name
        self.card = card or {}
        self._call = tf.function(
            lambda x: model(x, training=False),
            input_signature=[tf.TensorSpec((None, *INPUT_SHAPE, 1), tf.float32)],
            reduce_retracing=True,
        )
        self._lite = None
        self._lite_tried = False

    def _lite_model(self):
        """The LiteRT copy, compiled on first use (~1-2 s); None where it cannot be."""
        if self._lite_tried:
            return self._lite
        with _LITE_COMPILING:  # two first requests at once compile it once
            if self._lite_tried:
                return self._lite
            self._lite_tried = True
            if os.environ.get("DIGITLAB_LITE", "1") != "0":
                try:
                    self._lite = _LiteModel(self.model)
                except Exception as error:  # a TensorFlow without tf.lite, or an op it cannot convert
                    logging.getLogger(__name__).warning("LiteRT unavailable (%s); using TensorFlow", error)
        return self._lite

    def predict_batch(self, batch: np.ndarray) -> np.ndarray:
        """Probabilities for a non-empty batch already in the model's input form (N, 28, 28, 1)."""
        lite = self._lite_model() if len(batch) <= LITE_MAX_BATCH else None
        if lite is not None:
            return lite(batch)
        return np.concatenate([self._call(batch[at:at + TF_MAX_BATCH]).numpy()
                               for at in range(0, len(batch), TF_MAX_BATCH)])

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (N, classes) for a batch (N, 28, 28) or (1, classes) for one image."""
        batch = to_model_input(images)
        if len(batch) == 0:
            return np.zeros((0, self.model.output_shape[-1]), np.float32)
        return self.predict_batch(batch)


def predict_together(classifiers, images: np.ndarray, firsts=None) -> list[np.ndarray]:
    """Each classifier's probabilities for the same batch (for its first ``firsts[k]`` images, where given),
    converted to the models' input form once."""
    batch = to_model_input(images)
    firsts = [len(batch)] * len(classifiers) if firsts is None else [min(len(batch), n) for n in firsts]
    return [c.predict_batch(batch[:n]) if n else np.zeros((0, c.model.output_shape[-1]), np.float32)
            for c, n in zip(classifiers, firsts)]


def load_saved_model(name: str, models_dir: str | None = None):
    """A shipped Keras model and its card (``{}`` if none) from ``models_dir`` (default: assets/models)."""
    folder = Path(models_dir) if models_dir else MODELS_DIR
    path = folder / f"{name}.keras"
    if not path.is_file():
        raise DigitlabError(f"model file {path} is missing; train it with `python -m digitlab train {name}`")
    model = _keras().saving.load_model(path, compile=False)
    card_path = folder / f"{name}.json"
    return model, json.loads(card_path.read_text()) if card_path.is_file() else {}


@functools.lru_cache(maxsize=None)
def load_classifier(name: str = DEFAULT_MODEL, models_dir: str | None = None) -> Classifier:
    """Load a shipped model once per process (cached)."""
    if name not in BUILDERS:
        raise DigitlabError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
    model, card = load_saved_model(name, models_dir)
    classifier = Classifier(model, name, card)
    classifier.predict(np.zeros(INPUT_SHAPE, np.float32))  # trace now, not on the first request
    return classifier

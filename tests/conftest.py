"""Shared fixtures: MNIST, the shipped models, and seeded simulated images."""

import socket
from pathlib import Path

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

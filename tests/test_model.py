"""The shipped models on the full MNIST test set, training end to end, and the fast inference path."""

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from digitlab.model import LITE_MAX_BATCH, MODELS_DIR, TF_MAX_BATCH, load_classifier, predict_together, to_model_input, train
from digitlab.verifier import load_verifier


def test_cnn_reads_mnist_test_set(cnn, mnist):
    probs = cnn.predict(mnist.x_test)
    accuracy = np.mean(probs.argmax(1) == mnist.y_test)
    assert accuracy >= 0.995, accuracy


def test_a_batch_bigger_than_tensorflow_reads_at_once_is_read_in_parts_with_the_same_answers(cnn, mnist):
    # The test set read across stroke widths (30,000 digits in one call) aborted TensorFlow with std::bad_alloc.
    n = TF_MAX_BATCH + 300
    together = cnn.predict(mnist.x_test[:n])
    assert together.shape == (n, 10)
    assert np.allclose(together[TF_MAX_BATCH:], cnn.predict(mnist.x_test[TF_MAX_BATCH:n]), atol=1e-5)


def test_softmax_reads_mnist_test_set(softmax, mnist):
    accuracy = np.mean(softmax.predict(mnist.x_test).argmax(1) == mnist.y_test)
    assert 0.90 <= accuracy < 0.95, accuracy  # the article's model: good, not great


def test_model_cards_match_the_shipped_files():
    for name in ("softmax", "cnn"):
        card = json.loads((MODELS_DIR / f"{name}.json").read_text())
        assert card["file_bytes"] == (MODELS_DIR / f"{name}.keras").stat().st_size
        assert len(card["training_data_sha256"]) == 64
    cnn_card = json.loads((MODELS_DIR / "cnn.json").read_text())
    assert cnn_card["parameters"] < 1_000_000 and cnn_card["file_bytes"] < 2_000_000


def test_fast_path_matches_keras_predict(cnn, mnist):
    x = mnist.x_test[:64].astype(np.float32)[..., None] / 255
    assert np.allclose(cnn.predict(mnist.x_test[:64]), cnn.model.predict(x, verbose=0), atol=1e-4)


def test_picture_sized_batches_read_the_whole_test_set_as_tensorflow_does(cnn, mnist):
    """Batches of up to LITE_MAX_BATCH images (a picture's readings) go through LiteRT; its probabilities must be
    TensorFlow's, and its answers the same on every MNIST test digit, for both models and from concurrent callers."""
    verifier = load_verifier().classifier
    assert cnn._lite_model() is not None and verifier._lite_model() is not None, "LiteRT did not load"
    sizes = [1, 7, 40, LITE_MAX_BATCH]
    starts = np.cumsum([0] + sizes * 200)
    chunks = [(a, b) for a, b in zip(starts[:-1], starts[1:]) if a < len(mnist.x_test)]
    with ThreadPoolExecutor(4) as pool:  # the interpreter is shared: concurrent calls must not mix their batches
        read = list(pool.map(lambda ab: predict_together((cnn, verifier), mnist.x_test[ab[0]:ab[1]]), chunks))
    for k, model in enumerate((cnn, verifier)):
        lite = np.concatenate([r[k] for r in read])
        reference = np.concatenate([model._call(to_model_input(mnist.x_test[a:b])).numpy() for a, b in chunks])
        assert lite.shape == reference.shape == (len(mnist.x_test), model.model.output_shape[-1])
        assert np.abs(lite - reference).max() < 1e-4
        assert np.array_equal(lite.argmax(1), reference.argmax(1))


def test_short_training_run_saves_reloads_and_beats_chance(tmp_path, mnist):
    card = train("softmax", mnist, epochs=1, out_dir=tmp_path, limit=800, verbose=0)
    assert (tmp_path / "softmax.keras").is_file()
    assert json.loads((tmp_path / "softmax.json").read_text())["training_images"] == 800
    reloaded = load_classifier("softmax", str(tmp_path))
    accuracy = np.mean(reloaded.predict(mnist.x_test[:2000]).argmax(1) == mnist.y_test[:2000])
    assert accuracy > 0.3, accuracy  # chance is 0.1
    assert abs(accuracy - card["mnist_test_accuracy"]) < 0.1

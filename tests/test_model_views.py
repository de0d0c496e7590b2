"""Model views on real MNIST digits: evidence maps, MNIST neighbours, the softmax model opened,
the confusion matrix and per-stage accuracy of an evaluation, and the explain sheet."""

import json
import shutil
from collections import Counter

import cv2
import numpy as np
import pytest
from scipy import ndimage

from conftest import mnist_digit
from digitlab import mnist_index, model_views, report_views
from digitlab.errors import DigitlabError
from digitlab.evaluate import per_class_table, score_digits
from digitlab.model import MODELS_DIR
from digitlab.pipeline import recognize
from digitlab.visual import model_views_sheet, stage_sheet


def stratified_test_digits(mnist, per_class: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(mnist.y_test == d), per_class, replace=False) for d in range(10)])


def test_occlusion_map_of_a_centred_one_lies_on_the_stroke(mnist, cnn):
    reach = np.ones((2 * model_views.OCCLUSION_PATCH - 1,) * 2, bool)  # pixels a patch touching the ink can cover
    shares, densities = [], []
    for index in range(20):
        image = mnist_digit(mnist, 1, index).astype(np.float32) / 255
        found = model_views.evidence(image, cnn, method="occlusion")
        assert found.digit == 1
        support = np.clip(found.values, 0, None)
        stroke = image > 0
        beside = ndimage.binary_dilation(stroke, reach) & ~stroke
        shares.append(support[stroke].sum() / support.sum())
        densities.append(support[stroke].mean() / support[beside].mean())
    assert min(shares) > 0.5 and np.mean(shares) > 0.6, shares  # most of the support is the stroke itself
    assert np.mean(densities) > 2, densities  # not just spread evenly over the patches' reach


def test_evidence_maps_find_what_the_model_needs(mnist, cnn):
    """Erasing the top third of the ink a map ranks highest hurts the prediction far more than a random third."""
    rng = np.random.default_rng(0)
    for method in model_views.EVIDENCE_METHODS:
        guided, random = [], []
        for i in stratified_test_digits(mnist, 2):
            image = mnist.x_test[i].astype(np.float32) / 255
            found = model_views.evidence(image, cnn, method=method)
            ink = np.flatnonzero(image)
            third = len(ink) // 3
            top = np.argsort(-found.values.reshape(-1))[:third]
            erased = [image.reshape(-1).copy() for _ in range(2)]
            erased[0][top] = 0
            erased[1][rng.choice(ink, third, replace=False)] = 0
            probs = cnn.predict(np.stack(erased).reshape(2, 28, 28))[:, found.digit]
            guided.append(probs[0])
            random.append(probs[1])
        assert np.mean(guided) < np.mean(random) - 0.3, (method, np.mean(guided), np.mean(random))


def test_all_ten_maps_come_from_one_batch_and_why_not_has_its_own(mnist, cnn):
    image = mnist_digit(mnist, 7).astype(np.float32) / 255
    views = model_views.explain(image, cnn, why_not=1)
    assert views.digit == 7 and views.evidence.digit == 7 and views.why_not.digit == 1
    assert np.allclose(views.probabilities, cnn.predict(image)[0], atol=1e-5)
    assert np.array_equal(views.why_not.values, model_views.evidence(image, cnn, digit=1).values)
    assert views.evidence.values.sum() > 0 > views.why_not.values.sum()  # the ink of a 7 argues against 1
    assert views.evidence.picture.shape == (280, 280, 3) and views.evidence.picture.dtype == np.uint8
    with pytest.raises(DigitlabError):
        views.maps.for_class(10)
    with pytest.raises(DigitlabError):
        model_views.evidence(None, cnn)


def test_nearest_mnist_digits_are_mostly_the_same_class(mnist):
    chosen = stratified_test_digits(mnist, 20)
    purity = [np.mean(mnist_index.nearest(mnist.x_test[i], k=8).labels == mnist.y_test[i]) for i in chosen]
    assert np.mean(purity) >= 0.9, np.mean(purity)
    found = mnist_index.nearest(mnist.x_test[chosen[0]], k=8)
    assert len(found.labels) == 8 and np.all(np.diff(found.similarities) <= 1e-6)
    index = mnist_index.load_index()
    assert np.array_equal(found.class_mean, index.class_means[found.predicted])
    # The stored mean image is the mean of MNIST's training digits of that class.
    digit = found.predicted
    assert np.abs(found.class_mean - mnist.x_train[mnist.y_train == digit].mean(0)).max() <= 0.5


def test_shipped_index_belongs_to_the_shipped_cnn_and_stays_small():
    npz, card_path = mnist_index.index_paths()
    card = json.loads(card_path.read_text())
    assert card["model_sha256"] == mnist_index._sha256(MODELS_DIR / "cnn.keras")
    assert npz.stat().st_size < 5_000_000
    index = mnist_index.load_index()
    assert np.bincount(index.labels).tolist() == [card["per_class"]] * 10
    assert np.allclose(np.linalg.norm(index.features, axis=1), 1, atol=2e-3)


def test_index_is_rebuilt_for_a_model_and_refused_for_another(tmp_path, mnist):
    shutil.copy(MODELS_DIR / "cnn.keras", tmp_path / "cnn.keras")
    card = mnist_index.build_index(mnist, tmp_path, per_class=30)
    index = mnist_index.load_index(str(tmp_path))
    assert len(index.labels) == 300 and card["digits"] == 300
    # The index's own digits are their own nearest neighbours.
    heads = model_views.model_heads(mnist_index.load_classifier("cnn", str(tmp_path)))
    rows, similarity = index.nearest(heads(index.images[:5])[0][3], k=1)
    assert rows[0] == 3 and similarity[0] > 0.999
    (tmp_path / "cnn.keras").write_bytes((MODELS_DIR / "softmax.keras").read_bytes())
    mnist_index.load_index.cache_clear()
    with pytest.raises(DigitlabError, match="python -m digitlab index"):
        mnist_index.load_index(str(tmp_path))


def test_softmax_scores_are_weight_times_pixel_and_equal_the_logits(mnist, softmax):
    images = mnist.x_test[:50].astype(np.float32) / 255
    shifted = np.roll(mnist_digit(mnist, 3).astype(np.float32) / 255, 6, axis=1)  # off-centre: a linear model's trouble
    heads = model_views.model_heads(softmax)
    for image in [*images, shifted]:
        opened = model_views.softmax_opened(image, softmax)
        _, logits = heads(image)
        assert np.allclose(opened.contributions.sum(axis=(1, 2)) + opened.bias, logits[0], atol=1e-4)
        assert np.allclose(opened.scores, logits[0], atol=1e-4)
        assert np.allclose(opened.probabilities, softmax.predict(image)[0], atol=1e-5)
    # Gradient x input of a linear model is exactly weight x pixel.
    gradient = model_views.evidence_maps(shifted, softmax, method="gradient").maps
    assert np.allclose(gradient, model_views.softmax_opened(shifted, softmax).contributions, atol=1e-5)
    assert len(opened.weight_pictures) == 10 and opened.weight_pictures[0].ndim == 3


@pytest.fixture(scope="module")
def known_set(mnist):
    """60 MNIST test digits through the article pipeline without centring (so some are misread),
    one enlarged and shifted to a corner, and one unreadable file."""
    chosen = stratified_test_digits(mnist, 6, seed=3)
    images = [cv2.resize(mnist.x_test[i], (140, 140), interpolation=cv2.INTER_AREA) for i in chosen]
    images[0] = np.roll(images[0], (40, 40), axis=(0, 1))
    labels = [str(mnist.y_test[i]) for i in chosen]
    images.append(DigitlabError("broken.jpg: not an image"))
    labels.append("4")
    return images, labels, score_digits(images, labels, "article", "cnn", skip={"center"})


def test_confusion_matrix_matches_the_evaluation(known_set):
    images, labels, report = known_set
    confusion = report_views.confusion(report)
    counts = Counter((o.label, o.predicted or report_views.NO_DIGIT) for o in report.outcomes)
    for (label, read), n in counts.items():
        assert confusion.matrix[int(label), report_views.COLUMNS.index(read)] == n
    assert confusion.matrix.sum() == report.n == len(labels)
    assert confusion.accuracy == pytest.approx(report.accuracy)
    assert confusion.matrix[4, -1] >= 1  # the broken file
    assert report.accuracy < 1  # the set is known to contain misreads
    table = {line.split()[0]: line.split()[1:3] for line in per_class_table(report).splitlines()[1:]}
    for row in confusion.per_class:
        assert table[row.label] == [str(row.n), str(row.correct)]
    assert confusion.picture.ndim == 3 and confusion.picture.dtype == np.uint8
    with pytest.raises(DigitlabError, match="single-digit"):
        report_views.confusion(type(report)("numbers", [type(report.outcomes[0])("42", "42")]))


def test_stage_accuracy_is_the_model_on_each_stage_output(known_set):
    images, labels, report = known_set
    stages = report_views.stage_accuracy(report, "article")
    assert [s.name for s in stages] == [o[0] for o in report.outcomes[0].stage_digits]
    assert stages[-1].correct == sum(o.correct for o in report.outcomes)
    for k in (2, 4):  # recompute two stages directly from the pipeline
        right = 0
        for image, label in zip(images, labels):
            if not isinstance(image, Exception):
                result = recognize(image, pipeline="article", skip={"center"})
                right += result.stages[k].digit is not None and str(result.stages[k].digit) == label
        assert stages[k].correct == right and stages[k].n == len(labels)
    with pytest.raises(DigitlabError):
        report_views.stage_accuracy(report, "robust")


def test_explain_sheet_has_the_stages_and_the_model_views(mnist, cnn, artifacts):
    image = cv2.resize(mnist_digit(mnist, 4), (200, 200), interpolation=cv2.INTER_AREA)
    result = recognize(image, classifier=cnn)
    views = model_views.explain(result.model_input, cnn, why_not=9)
    sheet = model_views_sheet(result, views)
    assert views.neighbours is not None and views.neighbours_note == ""
    below = sheet.shape[0] - stage_sheet(result).shape[0]
    assert below >= 200 + 100 and sheet.shape[2] == 3  # a row of maps and neighbours, a row of softmax scores
    assert cv2.imwrite(str(artifacts / "model_views_sheet.png"), sheet)

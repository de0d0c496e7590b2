"""What the model sees in one 28x28 input: where its evidence lies, which MNIST digits it resembles,
and the article's softmax model opened up.

Evidence maps say, per pixel, how much that ink raises (+, red) or lowers (-, blue) one class's
logit (the score before softmax; probabilities saturate near 1 and would hide everything):

- ``occlusion`` (default): erase a 4x4 patch at every stride-2 position that holds ink (at most
  169 copies, one model batch) and record how far each class's logit falls; each pixel gets the
  mean fall of the patches covering it.
- ``gradient``: gradient x input of each class's logit (one forward and backward pass). For the
  softmax model this is exactly weight x pixel, the decomposition ``softmax_opened`` shows.

Why occlusion is the default (``bench/model_views.py``, 200 MNIST test digits, CNN): both find the
evidence equally well by the deletion test (erase pixels in the map's order; mean probability of
the predicted class over the 0-100% curve 0.39 for occlusion, 0.40 for gradient x input, 0.61 for
a random order), but gradient x input paints a clean, confidently read digit with nearly as much
"against" as "for" (negative/positive mass 0.83: red and blue speckles along the same stroke), while
occlusion gives coherent parts (0.03: blue only where a part really argues against the class,
like the left stub of a 3). Its unit is one a workshop can act on: "cover this and it stops
being a 7". Its cost is a patch's width of blur beside the stroke (54% of its positive mass on
pixels >= 0.5 against 89% for the gradient; the tests check a centred 1 still puts most of its
mass on the stroke) and a batch of up to 169 images instead of one pass.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .errors import DigitlabError
from .model import INPUT_SHAPE, INPUT_SIDE, NUM_CLASSES, _keras, _tf, load_classifier, to_model_input
from .visual import DISPLAY_SIDE

EVIDENCE_METHODS = ("occlusion", "gradient")
DEFAULT_EVIDENCE = "occlusion"
OCCLUSION_PATCH = 4  # about one MNIST stroke wide: a patch hides one piece of one stroke
OCCLUSION_STRIDE = 2  # 13 x 13 = 169 positions: one model batch, fine enough for a 28x28 digit
OCCLUSION_FILL = 0.0  # the background: occluding means erasing ink

POSITIVE_RGB = np.array([220, 30, 30], np.float32)  # red: evidence for the class
NEGATIVE_RGB = np.array([30, 90, 235], np.float32)  # blue: evidence against it
DIGIT_BRIGHTNESS = 0.55  # the digit under a heat map is dimmed so the colours stay readable


def _occlusion_masks() -> np.ndarray:
    corners = range(0, INPUT_SIDE - OCCLUSION_PATCH + 1, OCCLUSION_STRIDE)
    masks = np.zeros((len(corners) ** 2, *INPUT_SHAPE), bool)
    for i, (r, c) in enumerate((r, c) for r in corners for c in corners):
        masks[i, r:r + OCCLUSION_PATCH, c:c + OCCLUSION_PATCH] = True
    return masks


OCCLUSION_MASKS = _occlusion_masks()
OCCLUSION_COVER = OCCLUSION_MASKS.sum(0).astype(np.float32)  # how many patches cover each pixel


# --- the model's penultimate features and logits, from one traced call ----------------------------


class ModelHeads:
    """A loaded classifier seen from inside: its penultimate features and its logits (pre-softmax).

    The logits come from a copy of the last Dense layer without its softmax, sharing its weights,
    so they are what Keras computes before the activation, not a re-derivation.
    """

    def __init__(self, classifier):
        keras, tf = _keras(), _tf()
        model = classifier.model
        last = model.layers[-1]
        if not isinstance(last, keras.layers.Dense):
            raise DigitlabError(f"model {classifier.name!r} does not end in a Dense layer; cannot open it")
        linear = keras.layers.Dense.from_config({**last.get_config(), "activation": "linear", "name": f"{last.name}_logits"})
        features = last.input
        logits = linear(features)
        linear.set_weights(last.get_weights())
        self.name = classifier.name
        self.model = keras.Model(model.inputs, [features, logits])
        spec = [tf.TensorSpec((None, *INPUT_SHAPE, 1), tf.float32)]
        self._call = tf.function(lambda x: self.model(x, training=False), input_signature=spec, reduce_retracing=True)

        def gradient_x_input(x):
            # Ten copies of the input, copy c differentiated for class c: all ten maps in one pass.
            copies = tf.repeat(x, NUM_CLASSES, axis=0)
            with tf.GradientTape() as tape:
                tape.watch(copies)
                logits = self.model(copies, training=False)[1]
                score = tf.reduce_sum(tf.linalg.diag_part(logits))
            return tape.gradient(score, copies) * copies, logits[0]

        self._gradient_x_input = tf.function(
            gradient_x_input, input_signature=[tf.TensorSpec((1, *INPUT_SHAPE, 1), tf.float32)]
        )

    def __call__(self, images) -> tuple[np.ndarray, np.ndarray]:
        """(features (N, F), logits (N, 10)) for images (N, 28, 28) or one (28, 28)."""
        features, logits = self._call(to_model_input(images))
        return features.numpy(), logits.numpy()

    def gradient_x_input(self, image) -> tuple[np.ndarray, np.ndarray]:
        """Gradient x input of every class's logit, (10, 28, 28), and the logits of ``image``."""
        maps, logits = self._gradient_x_input(to_model_input(image))
        return maps.numpy()[..., 0], logits.numpy()


@functools.lru_cache(maxsize=4)
def model_heads(classifier) -> ModelHeads:
    """The heads of a loaded classifier, built and traced once per classifier."""
    heads = ModelHeads(classifier)
    heads(np.zeros(INPUT_SHAPE, np.float32))
    heads.gradient_x_input(np.zeros(INPUT_SHAPE, np.float32))
    return heads


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


# --- evidence maps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """Where the evidence for (and against) one class lies in one input."""

    digit: int  # the class explained
    method: str  # "occlusion" or "gradient"
    values: np.ndarray  # (28, 28) float32, in logit units: + this ink supports ``digit``, - it argues against
    picture: np.ndarray  # RGB uint8, DISPLAY_SIDE square: red/blue heat map over the dimmed digit
    probability: float  # the model's probability for ``digit``


@dataclass(frozen=True)
class EvidenceMaps:
    """Every class's evidence map for one input, from one model batch: "why not 1?" costs no model call."""

    method: str
    image: np.ndarray  # (28, 28) float32, the input
    maps: np.ndarray  # (10, 28, 28) float32, logit units
    probabilities: np.ndarray  # (10,)

    @property
    def digit(self) -> int:
        return int(np.argmax(self.probabilities))

    @property
    def runner_up(self) -> int:
        return int(np.argsort(self.probabilities)[-2])

    def for_class(self, digit: int | None = None) -> Evidence:
        """The map for ``digit`` (default: the top class) with its picture."""
        digit = self.digit if digit is None else _check_digit(digit)
        values = self.maps[digit]
        return Evidence(digit, self.method, values, evidence_picture(self.image, values),
                        float(self.probabilities[digit]))


def _check_input(model_input) -> np.ndarray:
    if model_input is None:
        raise DigitlabError("no digit to explain: preprocessing found none")
    return to_model_input(model_input)[0, ..., 0]


def _check_digit(digit) -> int:
    try:
        if 0 <= int(digit) < NUM_CLASSES and int(digit) == digit:
            return int(digit)
    except (TypeError, ValueError):
        pass
    raise DigitlabError(f"a class must be a digit 0-9, got {digit!r}")


def occlusion_maps(image: np.ndarray, heads: ModelHeads) -> tuple[np.ndarray, np.ndarray]:
    """Per class, the mean fall of its logit when a patch covering each pixel is erased; and the logits."""
    # A patch over background only erases nothing, so its fall is exactly 0: leave it out of the batch.
    masks = OCCLUSION_MASKS[np.any(OCCLUSION_MASKS & (image != OCCLUSION_FILL), axis=(1, 2))]
    _, logits = heads(np.concatenate([image[None], np.where(masks, OCCLUSION_FILL, image)]))
    fall = logits[0] - logits[1:]  # (patches, 10)
    maps = np.tensordot(fall.T, masks, axes=1) / OCCLUSION_COVER
    return maps.astype(np.float32), logits[0]


def evidence_maps(model_input, classifier=None, method: str = DEFAULT_EVIDENCE) -> EvidenceMaps:
    """All ten classes' evidence maps for a 28x28 input, in one model batch."""
    if method not in EVIDENCE_METHODS:
        raise DigitlabError(f"unknown evidence method {method!r}; choose from {', '.join(EVIDENCE_METHODS)}")
    image = _check_input(model_input)
    heads = model_heads(classifier or load_classifier())
    if method == "occlusion":
        maps, logits = occlusion_maps(image, heads)
    else:
        maps, logits = heads.gradient_x_input(image)
    return EvidenceMaps(method, image, maps, softmax(logits))


def evidence(model_input, classifier=None, digit: int | None = None, method: str = DEFAULT_EVIDENCE) -> Evidence:
    """The evidence map for ``digit`` (default: the model's top class) in a 28x28 input."""
    return evidence_maps(model_input, classifier, method).for_class(digit)


# --- pictures -----------------------------------------------------------------------------------


def _enlarge(rgb: np.ndarray, side: int = DISPLAY_SIDE) -> np.ndarray:
    scale = max(1, side // rgb.shape[0])
    return np.ascontiguousarray(np.repeat(np.repeat(rgb, scale, 0), scale, 1))


def diverging_colors(values: np.ndarray, scale: float | None = None, base: np.ndarray | None = None) -> np.ndarray:
    """Red for positive, blue for negative values, blended over ``base`` (grey 0..255, default white)."""
    scale = float(np.max(np.abs(values))) if scale is None else float(scale)
    strength = np.clip(values / scale, -1, 1) if scale > 0 else np.zeros_like(values)
    base = np.full(values.shape, 255.0, np.float32) if base is None else base.astype(np.float32)
    alpha = np.abs(strength)[..., None]
    color = np.where(strength[..., None] >= 0, POSITIVE_RGB, NEGATIVE_RGB)
    return (base[..., None] * (1 - alpha) + color * alpha).astype(np.uint8)


def evidence_picture(image: np.ndarray, values: np.ndarray, side: int = DISPLAY_SIDE) -> np.ndarray:
    """The heat map over the dimmed digit, enlarged to ``side`` (10x by default) with every pixel kept square;
    ``side=28`` leaves it at the input's size (the app enlarges it in the browser)."""
    return _enlarge(diverging_colors(values, base=np.clip(image, 0, 1) * 255 * DIGIT_BRIGHTNESS), side)


# --- the article's softmax model, opened --------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _softmax_weights(classifier) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    last = classifier.model.layers[-1]
    kernel, bias = (np.asarray(w, np.float32) for w in last.get_weights())
    if kernel.shape != (INPUT_SIDE * INPUT_SIDE, NUM_CLASSES):
        raise DigitlabError(f"model {classifier.name!r} is not a 784 -> 10 linear model")
    weights = kernel.T.reshape(NUM_CLASSES, *INPUT_SHAPE)  # Flatten reads row by row
    scale = float(np.max(np.abs(weights)))
    return weights, bias, tuple(_enlarge(diverging_colors(w, scale), 140) for w in weights)


@dataclass(frozen=True)
class SoftmaxOpened:
    """The article's model for one input: score of class c = sum(weight_c x pixel) + bias_c."""

    weights: np.ndarray  # (10, 28, 28): what each class looks for (+ red, - blue)
    bias: np.ndarray  # (10,)
    contributions: np.ndarray  # (10, 28, 28): weight x pixel for this input
    scores: np.ndarray  # (10,): contributions summed plus bias = the model's logits
    probabilities: np.ndarray  # (10,): softmax of the scores
    weight_pictures: tuple[np.ndarray, ...]  # 10 RGB pictures, one colour scale for all ten
    contribution_pictures: tuple[np.ndarray, ...]  # 10 RGB pictures, one colour scale for all ten

    @property
    def digit(self) -> int:
        return int(np.argmax(self.scores))


def softmax_opened(model_input, classifier=None) -> SoftmaxOpened:
    """The softmax model's ten weight maps and this input's per-class weight x pixel sums."""
    image = _check_input(model_input)
    weights, bias, weight_pictures = _softmax_weights(classifier or load_classifier("softmax"))
    contributions = weights * image[None]
    scores = contributions.reshape(NUM_CLASSES, -1).sum(1) + bias
    scale = float(np.max(np.abs(contributions))) or 1.0
    pictures = tuple(_enlarge(diverging_colors(c, scale), 140) for c in contributions)
    return SoftmaxOpened(weights, bias, contributions, scores, softmax(scores), weight_pictures, pictures)


# --- everything for one input -------------------------------------------------------------------


@dataclass(frozen=True)
class ModelViews:
    """All model views of one 28x28 input, for the app, the CLI sheet and the tests."""

    model: str  # the classifier the evidence maps explain
    maps: EvidenceMaps  # every class's map: ``maps.for_class(d)`` answers "why not d?" without a model call
    evidence: Evidence  # for the top class
    why_not: Evidence | None  # for the class asked about, if any
    neighbours: object | None  # mnist_index.Neighbours, or None when the index is unavailable
    neighbours_note: str  # why there are no neighbours ("" when there are)
    softmax: SoftmaxOpened

    @property
    def probabilities(self) -> np.ndarray:
        return self.maps.probabilities

    @property
    def digit(self) -> int:
        return self.maps.digit

    @property
    def runner_up(self) -> int:
        return self.maps.runner_up


def explain(model_input, classifier=None, why_not: int | None = None, method: str = DEFAULT_EVIDENCE,
            neighbours: int = 8) -> ModelViews:
    """Every model view of one input: evidence maps (top class, and ``why_not`` if given), the nearest
    MNIST training digits in the CNN's feature space with the predicted class's mean image, and the
    article's softmax model opened. A missing or stale neighbour index is a note, not an error."""
    from . import mnist_index

    classifier = classifier or load_classifier()
    maps = evidence_maps(model_input, classifier, method)
    found, note = None, ""
    if neighbours:
        try:
            found = mnist_index.nearest(model_input, k=neighbours)
        except DigitlabError as exc:
            note = str(exc)
    return ModelViews(classifier.name, maps, maps.for_class(), None if why_not is None else maps.for_class(why_not),
                      found, note, softmax_opened(model_input))

"""The models' reading of stage outputs: 28x28 views, ladders read in one call, stroke-width votes, and the
verifier's choice among hypotheses."""

from __future__ import annotations

import cv2
import numpy as np

from .imageio import to_gray
from .model import INPUT_SHAPE, predict_together

# The smallest grey dilation / erosion: a pixel thicker or thinner at 28x28, as the model's training augmentation varies strokes.
STROKE_VOTE_KERNEL = np.ones((2, 2), np.uint8)
# The vote re-reads only this many of the best hypotheses: the rest are far behind in score.
STROKE_VOTE_CONTENDERS = 4


def as_model_input(image: np.ndarray) -> np.ndarray:
    """What the model would see if this stage's output were fed to it directly: grey, 28x28, 0..1."""
    step = max(1, min(image.shape[:2]) // 224)
    if step > 1:
        # Full-resolution photos: subsample to ~224 px before area-averaging (40 ms -> 1 ms at 12 MP).
        image = image[::step, ::step]
    gray = to_gray(image[..., :3] if image.ndim == 3 else image)
    if gray.shape != INPUT_SHAPE:
        gray = cv2.resize(gray, INPUT_SHAPE[::-1], interpolation=cv2.INTER_AREA)
    return gray.astype(np.float32) / 255.0


def ladder_views(ladders) -> tuple[np.ndarray | None, list[list[int | None]], list[int]]:
    """The distinct 28x28 views of ladders of stage outputs: (views or None, each stage's view index, each answer's).

    A stage whose 28x28 view equals the previous one's (it passed its input through, or changed
    nothing visible at 28x28) shares that view.
    """
    views, indices, answers = [], [], []
    for outputs in ladders:
        index_of, previous, first = [], None, len(views)
        for img in outputs:
            if img is None:
                index_of.append(None)
                continue
            if img is not previous:
                view = as_model_input(img)
                if len(views) == first or not np.array_equal(view, views[-1]):
                    views.append(view)
            previous = img
            index_of.append(len(views) - 1)
        indices.append(index_of)
        if len(views) > first:
            answers.append(len(views) - 1)
    return (np.stack(views) if views else None), indices, answers


def per_stage(indices: list[list[int | None]], probs: np.ndarray) -> list[list[np.ndarray | None]]:
    """``ladder_views``' view indices turned into each stage's probabilities (None stays None)."""
    return [[None if k is None else probs[k] for k in index_of] for index_of in indices]


def classify_ladders(ladders, classifier, vote: bool = True) -> list[list[np.ndarray | None]]:
    """The classifier's probabilities for every stage output of every ladder (None stays None), in one model call.

    With ``vote``, each ladder's last view, its answer, is read across stroke widths; the others
    show what the model makes of each stage as it is.
    """
    views, indices, answers = ladder_views(ladders)
    if views is None:
        return [[None] * len(index_of) for index_of in indices]
    probs = predict_across_stroke_widths(views, classifier, voted=answers) if vote else classifier.predict(views)
    return per_stage(indices, probs)


def stroke_width_batch(views: np.ndarray, voted=None) -> np.ndarray:
    """The views, then the ``voted`` ones (all by default) a pixel thicker, then a pixel thinner: one model batch."""
    voted = np.arange(len(views)) if voted is None else np.asarray(voted, int)
    thicker = [cv2.dilate(views[k], STROKE_VOTE_KERNEL) for k in voted]
    thinner = [cv2.erode(views[k], STROKE_VOTE_KERNEL) for k in voted]
    return np.concatenate([views, np.reshape(thicker + thinner, (-1, *views.shape[1:]))])


def vote_across_stroke_widths(probs: np.ndarray, n: int, voted=None, with_plain: bool = False):
    """The classifier's probabilities for ``stroke_width_batch``'s first ``n`` views, the voted ones voted."""
    voted = np.arange(n) if voted is None else np.asarray(voted, int)
    m = len(voted)
    readings = np.stack([probs[voted], probs[n:n + m], probs[n + m:]])
    mean = np.exp(np.log(readings + 1e-7).mean(axis=0))
    plain = probs[:n]
    probs = plain.copy()
    probs[voted] = mean / mean.sum(axis=1, keepdims=True)
    return (probs, plain) if with_plain else probs


def predict_across_stroke_widths(views: np.ndarray, classifier, voted=None, with_plain: bool = False):
    """The classifier's probabilities for 28x28 views; the ``voted`` ones (all by default) read at three stroke widths.
    With ``with_plain``, also the views' probabilities read as they are: (voted, plain), from the same call.

    A voted view is read as it is and with its strokes a pixel thicker and thinner, and the three
    readings' geometric mean kept: a digit that is ambiguous at one stroke width (a redrawn 3
    that closes into a 5, a 9's loop that thins to a 7) is rarely so at all three, and the
    answer no longer hangs on how the stroke stage rounded one pixel. One model call.
    """
    probs = classifier.predict(stroke_width_batch(views, voted))
    return vote_across_stroke_widths(probs, len(views), voted, with_plain)


def choose(finals: list[np.ndarray], log_priors: list[float], classifier, verifier, priors_from_scores=None,
           vote: bool = True, also: np.ndarray | None = None):
    """Index of the best final image, with every image's class probabilities, verifier score and total score,
    and the classifier's probabilities for the views ``also`` (read as they are, in the same model call).

    The score is log(verifier) + log(classifier confidence) + log(prior): a hypothesis must look
    like a digit at all, like one digit in particular, and overturn the rules only for a clearly
    better reading. ``priors_from_scores(scores, digits)`` adds log-priors that depend on the verifier's
    scores and the classifier's digits. With ``vote``, the best few are read again across stroke widths and the contest is between them.
    Ties go to the earlier (the rules') path.
    """
    batch = np.stack(finals)
    n = len(batch)
    # Paths that end in the same image (every stroke / the biggest mark, on a one-stroke drawing) are read once.
    numbered = {}  # an image's bytes -> its number among the distinct images
    same_as = np.array([numbered.setdefault(final.tobytes(), len(numbered)) for final in batch])
    distinct = batch[np.unique(same_as, return_index=True)[1]]
    m = len(distinct)
    vote_all = vote and n <= STROKE_VOTE_CONTENDERS
    read = stroke_width_batch(distinct) if vote_all else distinct
    extra = 0 if also is None else len(also)
    if extra:
        read = np.concatenate([read, also])
    if verifier is None:
        probs, scores = classifier.predict(read), np.ones(m, np.float32)
    else:  # the verifier judges the distinct images only, not their stroke-width variants or the ladder's views
        probs, judged = predict_together((classifier, verifier.classifier), read, firsts=(len(read), m))
        scores = verifier.scores_from(judged)
    probs, also_probs = probs[:len(probs) - extra], probs[len(probs) - extra:]
    probs = (vote_across_stroke_widths(probs, m) if vote_all else probs)[same_as]
    scores = scores[same_as]
    priors = np.asarray(log_priors, np.float32)
    if priors_from_scores is not None:
        priors = priors + priors_from_scores(scores, probs.argmax(axis=1))

    def totals(probs):
        return np.log(scores + 1e-6) + np.log(probs.max(axis=1) + 1e-6) + priors

    contenders = np.arange(n)
    if vote and not vote_all:  # a second call on the best few, not three times the whole batch
        contenders = np.sort(np.argsort(-totals(probs), kind="stable")[:STROKE_VOTE_CONTENDERS])
        probs[contenders] = predict_across_stroke_widths(batch[contenders], classifier)
    total = totals(probs)
    return int(contenders[np.argmax(total[contenders])]), probs, scores, total, also_probs

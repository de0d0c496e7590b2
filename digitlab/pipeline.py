"""The pipelines as data: ordered lists of named stages, and the runner that records each one.

The app, the CLI, the evaluation and the tests read ``PIPELINES``; no stage name or order
is written anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from . import stages as st
from .errors import DigitlabError
from .imageio import as_image_array
from .model import DEFAULT_MODEL, INPUT_SHAPE, load_classifier


@dataclass(frozen=True)
class Stage:
    """One named step: a pure function image -> image, with a title and a one-sentence explanation."""

    name: str
    title: str
    explanation: str
    func: Callable[[np.ndarray], np.ndarray]
    can_skip: bool = True


# Photo stages: the whole image in, clean bright ink on black out. Shared with the number reader.
ROBUST_PAGE_STAGES = (
    Stage("transparency", "Flatten transparency",
          "Drawings often come as ink on a transparent canvas; put them on a contrasting background.",
          st.flatten_transparency),
    Stage("working_size", "Working size",
          "Shrink big photos to 1280 px so every later step is fast; small digits stay large enough.",
          st.working_size),
    Stage("grayscale", "Ink-preserving grayscale",
          "Take the darkest colour channel, so blue or red ink stays as dark as black ink.",
          st.ink_grayscale, can_skip=False),
    Stage("polarity", "Make ink white",
          "MNIST digits are white on black: invert unless the background is already dark.",
          st.auto_polarity),
    Stage("lighting", "Even out lighting",
          "Subtract a smooth estimate of the paper, so shadows and uneven light disappear.",
          st.even_lighting),
    Stage("threshold", "Threshold",
          "Keep only pixels clearly brighter than the paper (Otsu's method), dropping texture and faint lines.",
          st.threshold_ink),
    Stage("lines", "Remove ruled lines",
          "Erase long thin straight lines: ruled or squared paper and page edges.",
          st.remove_ruled_lines),
)

ISOLATE_STAGE = Stage(
    "isolate", "Find the digit",
    "Keep the biggest digit-like blob and the strokes that belong to it; drop specks, edges and other marks.",
    st.isolate_digit,
)

# Digit stages: one digit's ink in, a 28x28 MNIST-like image out. Shared with the number reader.
ROBUST_DIGIT_STAGES = (
    Stage("crop", "Crop",
          "Cut away the empty margin around the digit.",
          st.crop_to_ink),
    Stage("stroke", "Normalise stroke width",
          "Thicken thin pen lines and thin thick brush strokes to MNIST's stroke width.",
          st.normalize_stroke),
    Stage("fit", "Fit into 20x20",
          "Shrink the digit so its longer side is 20 pixels, keeping its shape, with smooth edges.",
          st.fit_box),
    Stage("pad", "Pad to 28x28",
          "Add a black border to reach MNIST's 28x28 frame.",
          st.pad_frame),
    Stage("center", "Centre by mass",
          "Shift the digit so its centre of mass is in the middle, exactly as MNIST was made.",
          st.center_by_mass),
)

ARTICLE_STAGES = (
    Stage("grayscale", "Grayscale", "Turn the colour photo into shades of grey.", st.article_grayscale, can_skip=False),
    Stage("invert", "Invert", "MNIST digits are white on black: swap dark and light.", st.invert),
    Stage("resize", "Resize to 28x28", "Squash the whole image to MNIST's 28x28 pixels.", st.resize_frame),
    Stage("threshold", "Threshold", "Turn every pixel pure black or white (Otsu's method).", st.article_threshold),
    Stage("crop", "Crop", "Cut away empty rows and columns around the digit.", st.crop_to_ink),
    Stage("fit", "Fit into 20x20", "Resize so the longer side is 20 pixels, keeping the shape.", st.article_fit_box),
    Stage("pad", "Pad to 28x28", "Add a black border to reach 28x28.", st.pad_frame),
    Stage("center", "Centre by mass", "Shift the digit so its centre of mass is in the middle.", st.center_by_mass),
)

PIPELINES: dict[str, tuple[Stage, ...]] = {
    "robust": ROBUST_PAGE_STAGES + (ISOLATE_STAGE,) + ROBUST_DIGIT_STAGES,
    "article": ARTICLE_STAGES,
}
DEFAULT_PIPELINE = "robust"


def get_pipeline(name: str) -> tuple[Stage, ...]:
    if name not in PIPELINES:
        raise DigitlabError(f"unknown pipeline {name!r}; choose from {', '.join(PIPELINES)}")
    return PIPELINES[name]


# --- running ------------------------------------------------------------------------------------


def as_model_input(image: np.ndarray) -> np.ndarray:
    """What the model would see if this stage's output were fed to it directly: grey, 28x28, 0..1."""
    step = max(1, min(image.shape[:2]) // 224)
    if step > 1:
        # Full-resolution photos: subsample to ~224 px before area-averaging (40 ms -> 1 ms at 12 MP).
        image = image[::step, ::step]
    gray = st.to_gray(image[..., :3] if image.ndim == 3 else image)
    if gray.shape != INPUT_SHAPE:
        gray = cv2.resize(gray, INPUT_SHAPE[::-1], interpolation=cv2.INTER_AREA)
    return gray.astype(np.float32) / 255.0


@dataclass
class StageResult:
    stage: Stage
    image: np.ndarray | None  # the stage's output (None if an earlier stage found no digit)
    skipped: bool = False
    probabilities: np.ndarray | None = None  # the model on this output squashed to 28x28

    @property
    def digit(self) -> int | None:
        return None if self.probabilities is None else int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float | None:
        return None if self.probabilities is None else float(np.max(self.probabilities))


@dataclass
class Recognition:
    """A pipeline's answer for one image, with every stage on the way."""

    pipeline: str
    model: str
    stages: list[StageResult]
    model_input: np.ndarray | None  # the final 28x28 float image, or None if no digit
    probabilities: np.ndarray | None
    reason: str | None = None  # why there is no digit
    skipped: frozenset = field(default_factory=frozenset)

    @property
    def digit(self) -> int | None:
        return None if self.probabilities is None else int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return 0.0 if self.probabilities is None else float(np.max(self.probabilities))

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        if self.probabilities is None:
            return []
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(int(d), float(self.probabilities[d])) for d in order]

    def summary(self) -> str:
        if self.digit is None:
            return f"no digit ({self.reason})"
        return f"{self.digit} ({self.confidence:.1%})"


def run_stages(image: np.ndarray, stages, skip=()) -> tuple[list[tuple[Stage, np.ndarray | None, bool]], str | None]:
    """Run stages in order, skipping those named in ``skip``; stop at the first ``NoDigit``.

    Returns [(stage, output or None, skipped)] and the no-digit reason (or None).
    """
    trail = []
    reason = None
    for stage in stages:
        if reason is not None:
            trail.append((stage, None, stage.name in skip))
            continue
        if stage.name in skip and stage.can_skip:
            trail.append((stage, image, True))
            continue
        try:
            image = stage.func(image)
        except st.NoDigit as exc:
            reason = str(exc)
            trail.append((stage, None, False))
            continue
        trail.append((stage, image, False))
    return trail, reason


def recognize(
    image,
    pipeline: str = DEFAULT_PIPELINE,
    model: str = DEFAULT_MODEL,
    skip=(),
    classifier=None,
) -> Recognition:
    """Run a pipeline on one image and classify every stage's output in a single batch."""
    stages = get_pipeline(pipeline)
    unknown = set(skip) - {s.name for s in stages}
    if unknown:
        raise DigitlabError(f"no stage named {', '.join(sorted(unknown))} in the {pipeline} pipeline")
    rgb = as_image_array(image)
    classifier = classifier or load_classifier(model)
    trail, reason = run_stages(rgb, stages, skip)
    outputs = [img for _, img, _ in trail if img is not None]
    # One model call for the whole ladder. A stage whose 28x28 view equals the previous one
    # (it passed its input through, or changed nothing visible at 28x28) reuses its prediction.
    unique, index_of = [], []
    for img in outputs:
        if not unique or img is not outputs[len(index_of) - 1]:
            view = as_model_input(img)
            if not unique or not np.array_equal(view, unique[-1]):
                unique.append(view)
        index_of.append(len(unique) - 1)
    probs = classifier.predict(np.stack(unique)) if unique else np.zeros((0, 10))
    final = None
    if reason is None:
        final = unique[-1]  # whatever was skipped, the model gets the last output as 28x28
        if not np.any(final > 0.05):
            reason = "nothing left after preprocessing"
    results, k = [], 0
    for stage, img, skipped in trail:
        p = None
        if img is not None:
            p, k = probs[index_of[k]], k + 1
        results.append(StageResult(stage, img, skipped, p))
    final_probs = probs[index_of[-1]] if reason is None else None
    return Recognition(
        pipeline=pipeline,
        model=classifier.name,
        stages=results,
        model_input=final if reason is None else None,
        probabilities=final_probs,
        reason=reason,
        skipped=frozenset(skip),
    )


def preprocess(image, pipeline: str = DEFAULT_PIPELINE, skip=()) -> np.ndarray:
    """Only the preprocessing: the 28x28 float32 0..1 model input, or ``NoDigit``."""
    trail, reason = run_stages(as_image_array(image), get_pipeline(pipeline), skip)
    if reason is not None:
        raise st.NoDigit(reason)
    return as_model_input(trail[-1][1])

"""Your class's handwriting: what an evaluation report says per class and per stage.

From an ``evaluate.Report`` of single digits: the confusion matrix (as numbers and a picture),
accuracy per class, and how many images the model would get right if it were fed the output of
each stage (``Outcome.stage_digits``, which the pipeline computes for every stage anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import DigitlabError
from .model import NUM_CLASSES
from .pipeline import get_pipeline

NO_DIGIT = "none"  # the confusion matrix's last column: no digit found, or the file was unreadable
COLUMNS = tuple(str(d) for d in range(NUM_CLASSES)) + (NO_DIGIT,)
CELL = 40  # pixels per confusion-matrix cell: room for a three-digit count


@dataclass(frozen=True)
class Tally:
    correct: int
    n: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


@dataclass(frozen=True)
class ClassAccuracy(Tally):
    label: str = ""


@dataclass(frozen=True)
class Confusion:
    """Rows: the true digit 0-9; columns: what was read, 0-9 then ``none``."""

    matrix: np.ndarray  # (10, 11) int
    per_class: tuple[ClassAccuracy, ...]  # only the classes present in the report
    picture: np.ndarray  # RGB uint8: counts on cells shaded by the row's share

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.matrix[:, :NUM_CLASSES]) / max(1, self.matrix.sum()))


def _digit_label(label: str) -> int:
    if len(label) != 1 or not label.isdigit():
        raise DigitlabError(f"a confusion matrix needs single-digit labels 0-9, got {label!r}")
    return int(label)


def confusion(report) -> Confusion:
    """The confusion matrix, per-class accuracy and a picture of an ``evaluate.Report`` of single digits."""
    matrix = np.zeros((NUM_CLASSES, len(COLUMNS)), int)
    for outcome in report.outcomes:
        column = NUM_CLASSES if outcome.predicted is None else _digit_label(outcome.predicted)
        matrix[_digit_label(outcome.label), column] += 1
    per_class = tuple(
        ClassAccuracy(int(matrix[d, d]), int(matrix[d].sum()), str(d)) for d in range(NUM_CLASSES) if matrix[d].sum()
    )
    return Confusion(matrix, per_class, confusion_picture(matrix))


def confusion_picture(matrix: np.ndarray) -> np.ndarray:
    """Cells shaded by each row's share (right answers green, confusions red), counts written in."""
    rows, cols = matrix.shape
    margin = CELL
    canvas = np.full((margin + rows * CELL + 4, margin + cols * CELL + 4, 3), 255, np.uint8)
    shares = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for c, name in enumerate(COLUMNS):
        cv2.putText(canvas, name, (margin + c * CELL + 8, margin - 12), font, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(canvas, "read", (margin + 2, 12), font, 0.4, (90, 90, 90), 1, cv2.LINE_AA)
    cv2.putText(canvas, "true", (2, margin - 12), font, 0.4, (90, 90, 90), 1, cv2.LINE_AA)
    for r in range(rows):
        y = margin + r * CELL
        cv2.putText(canvas, str(r), (14, y + 26), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
        for c in range(cols):
            x = margin + c * CELL
            tint = np.array([40, 170, 60] if r == c else [220, 40, 40], float)
            color = 255 - shares[r, c] * (255 - tint)
            cv2.rectangle(canvas, (x, y), (x + CELL - 1, y + CELL - 1), tuple(int(v) for v in color), -1)
            cv2.rectangle(canvas, (x, y), (x + CELL - 1, y + CELL - 1), (210, 210, 210), 1)
            if matrix[r, c]:
                text = str(matrix[r, c])
                ink = (255, 255, 255) if shares[r, c] > 0.6 else (0, 0, 0)
                cv2.putText(canvas, text, (x + 20 - 5 * len(text), y + 25), font, 0.45, ink, 1, cv2.LINE_AA)
    return canvas


@dataclass(frozen=True)
class StageAccuracy(Tally):
    """How many images the model reads right when fed this stage's output (squashed to 28x28)."""

    name: str = ""
    title: str = ""


def stage_accuracy(report, pipeline: str) -> list[StageAccuracy]:
    """Accuracy of every stage's output across the report's images, in ``pipeline``'s order.

    An image that never reached a stage (unreadable, or no digit found earlier) counts as wrong there.
    """
    stages = get_pipeline(pipeline)
    correct = dict.fromkeys((s.name for s in stages), 0)
    for outcome in report.outcomes:
        if not outcome.stage_digits:
            continue
        names = [name for name, _ in outcome.stage_digits]
        if names != list(correct):
            raise DigitlabError(f"report {report.name!r} was not made with the {pipeline} pipeline")
        for name, digit in outcome.stage_digits:
            correct[name] += digit is not None and str(digit) == outcome.label
    return [StageAccuracy(correct[s.name], report.n, s.name, s.title) for s in stages]

"""Read whole numbers anywhere in an image: find each digit, classify it, order them into lines.

The page goes through the robust pipeline's page stages (transparency .. ruled lines); every
candidate digit then goes through its digit stages (crop .. centre by mass), exactly the
stages a single digit gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import segmentation as seg
from .imageio import as_image_array
from .model import DEFAULT_MODEL, load_classifier
from .pipeline import ROBUST_DIGIT_STAGES, ROBUST_PAGE_STAGES, StageResult, classify_ladders, run_stages

# Below this model probability a candidate is treated as "not a digit" (a smudge, a letter).
MIN_DIGIT_CONFIDENCE = 0.5
# Marks shorter than this fraction of the typical digit height are punctuation or specks.
MIN_HEIGHT_RATIO = 0.45
# A blob wider than this times the typical digit height holds several touching digits.
SPLIT_WIDTH_RATIO = 1.1
# Wider than this times its height, a blob is never read as one digit.
WHOLE_MAX_WIDTH_RATIO = 2.0
# Typical handwritten digit width as a fraction of its height, for guessing how many touch.
DIGIT_ASPECT = 0.72


@dataclass
class DigitReading:
    box: tuple[int, int, int, int]  # x, y, w, h in the input image's pixels
    digit: int
    confidence: float
    probabilities: np.ndarray
    stages: list[StageResult]
    line: int = 0


@dataclass
class NumberReading:
    text: str  # lines joined by "\n"
    digits: list[DigitReading]
    page_stages: list[StageResult] = field(default_factory=list)
    reason: str | None = None  # why nothing was read


@dataclass
class _Candidate:
    x: int
    y: int
    w: int
    h: int
    mask: np.ndarray  # bool, the candidate's ink inside its box
    parts: list["_Candidate"] = field(default_factory=list)  # a wide blob's split into touching digits

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def find_candidates(ink: np.ndarray) -> list[_Candidate]:
    """Digit-sized groups of ink: broken strokes merged, punctuation dropped, touching digits split."""
    labels, stats, keep = seg.ink_components(ink)
    if not keep:
        return []
    grouped = seg.group_strokes(stats, keep)
    groups = [members for members, _ in grouped]
    boxes = [box for _, box in grouped]

    heights = np.array([b[3] for b in boxes], float)
    typical = float(np.median(heights[heights >= 0.5 * heights.max()]))
    candidates = []
    for group, (x, y, w, h) in zip(groups, boxes):
        if h < MIN_HEIGHT_RATIO * typical:
            continue  # dots, commas, hyphens, specks
        mask = np.isin(labels[y:y + h, x:x + w], group)
        candidate = _Candidate(x, y, w, h, mask)
        if w > SPLIT_WIDTH_RATIO * h and w > SPLIT_WIDTH_RATIO * typical:
            # Too wide for one digit, usually: the model decides between whole and split.
            candidate.parts = _split_touching(x, y, mask, typical)
        candidates.append(candidate)
    return candidates


def _split_touching(x: int, y: int, mask: np.ndarray, typical: float) -> list[_Candidate]:
    """Cut a blob of touching digits at the columns with the least ink near the expected cuts."""
    h, w = mask.shape
    count = max(2, int(round(w / (DIGIT_ASPECT * max(h, typical)))))
    profile = mask.sum(axis=0).astype(float)
    cuts = [0]
    for k in range(1, count):
        expected = k * w / count
        lo, hi = int(expected - 0.25 * w / count), int(expected + 0.25 * w / count)
        lo, hi = max(lo, cuts[-1] + 1), min(hi, w - 1)
        cuts.append(lo + int(np.argmin(profile[lo:hi])) if hi > lo else int(expected))
    cuts.append(w)
    parts = []
    for a, b in zip(cuts, cuts[1:]):
        piece = mask[:, a:b]
        box = seg.bounding_box(piece)
        if box is None:
            continue
        top, bottom, left, right = box
        parts.append(_Candidate(x + a + left, y + top, right - left, bottom - top, piece[top:bottom, left:right]))
    return parts


def group_lines(candidates: list[_Candidate]) -> list[list[_Candidate]]:
    """Lines top to bottom, each left to right: a candidate joins a line its centre falls within."""
    lines: list[list[_Candidate]] = []
    for c in sorted(candidates, key=lambda c: c.cy):
        for line in lines:
            top = np.median([m.y for m in line])
            bottom = np.median([m.y + m.h for m in line])
            if top <= c.cy <= bottom:
                line.append(c)
                break
        else:
            lines.append([c])
    return [sorted(line, key=lambda c: c.x) for line in lines]


def _digit_trail(ink: np.ndarray, c: _Candidate):
    """The digit stages on one candidate's own ink; None if nothing usable is left."""
    digit_ink = np.where(c.mask, ink[c.y:c.y + c.h, c.x:c.x + c.w], 0).astype(np.uint8)
    trail, why = run_stages(digit_ink, ROBUST_DIGIT_STAGES)
    return trail if why is None else None


def read_number(image, classifier=None, model: str = DEFAULT_MODEL) -> NumberReading:
    """Read every digit in the image; the text has one line per row of digits."""
    rgb = as_image_array(image)
    classifier = classifier or load_classifier(model)
    trail, reason = run_stages(rgb, ROBUST_PAGE_STAGES)
    page = [StageResult(s, img, skipped) for s, img, skipped in trail]
    if reason is not None:
        return NumberReading("", [], page, reason)
    ink = trail[-1][1]
    scale = rgb.shape[1] / ink.shape[1]  # working size -> input pixels
    lines = group_lines(find_candidates(ink))
    if not lines:
        return NumberReading("", [], page, "no digit-shaped marks found")

    # Each candidate (and, for wide blobs, its split) through the digit stages, then one model batch.
    options = []  # (line, [[(candidate, trail), ...] per alternative])
    for index, line in enumerate(lines):
        for c in line:
            alternatives = []
            for group in ([c], c.parts) if c.parts else ([c],):
                prepared = [(p, _digit_trail(ink, p)) for p in group]
                if all(t is not None for _, t in prepared):
                    alternatives.append(prepared)
            if c.parts and c.w > WHOLE_MAX_WIDTH_RATIO * c.h and len(alternatives) > 1:
                alternatives = alternatives[1:]  # far too wide to be one digit
            if alternatives:
                options.append((index, alternatives))
    if not options:
        return NumberReading("", [], page, "no digit-shaped marks found")
    trails = [t for _, alts in options for alt in alts for _, t in alt]
    per_trail = classify_ladders([[img for _, img, _ in t] for t in trails], classifier)
    readings, k = [], 0
    for index, alternatives in options:
        scored = []
        for alt in alternatives:
            stage_probs = per_trail[k:k + len(alt)]
            k += len(alt)
            # Geometric mean of the digits' confidences: a split must explain the blob better.
            score = float(np.exp(np.mean([np.log(p[-1].max() + 1e-9) for p in stage_probs])))
            scored.append((score, alt, stage_probs))
        score, alt, stage_probs = max(scored, key=lambda item: item[0])
        for (c, trail), sp in zip(alt, stage_probs):
            final = sp[-1]
            if final.max() < MIN_DIGIT_CONFIDENCE:
                continue
            box = tuple(int(round(v * scale)) for v in (c.x, c.y, c.w, c.h))
            results = [StageResult(s, img, sk, p) for (s, img, sk), p in zip(trail, sp)]
            readings.append(DigitReading(box, int(final.argmax()), float(final.max()), final, results, index))
    text_lines = []
    for index in sorted({r.line for r in readings}):
        text_lines.append("".join(str(r.digit) for r in readings if r.line == index))
    return NumberReading("\n".join(text_lines), readings, page, None if readings else "no confident digits")

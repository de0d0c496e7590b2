"""Read whole numbers anywhere in an image: segmentation by recognition.

The page goes through the robust pipeline's page stages (transparency .. ruled lines). Each
line of marks is over-segmented into pieces (``numbers_layout``); every run of up to
``MAX_GROUP_PIECES`` consecutive pieces that could be one digit goes through the digit stages
(crop .. centre by mass), exactly the stages a single digit gets, and is scored by the
classifier (which digit) and the verifier (a digit at all). A dynamic programme over the
pieces then picks the grouping with the best total: each piece is in one digit, or skipped
as a non-digit (a ruled-line stub, a cell border, the page margin, a separator). The
winning segmentation and the runner-up are kept for display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np

from . import numbers_layout as layout
from . import photo_stages as ps
from . import segmentation as seg
from .imageio import as_image_array
from .model import DEFAULT_MODEL, load_classifier
from .hypotheses import explore, run_stages
from .pipeline import ROBUST_DIGIT_STAGES, ROBUST_PAGE_STAGES, StageResult, ink_white_picture
from .readings import as_model_input, classify_ladders, predict_across_stroke_widths

# A group of pieces is read as a digit when verifier x classifier confidence beats this; below, skipping it wins.
ACCEPT_SCORE = 0.3
# Reading a digit across a cut through one mark (or between strokes of one digit) costs this much log-score.
CUT_PENALTY = 1.5
# At most this many consecutive pieces form one digit (a flat zero is often cut into five slices) ...
MAX_GROUP_PIECES = 5
# ... or this many, no wider than the line's digit height (a thin flag or tail is cut into many slivers: a European 1).
MAX_NARROW_GROUP_PIECES = 6
# A digit is at least this fraction of its line's digit height, at most MAX_HEIGHT_RATIO of it ...
MIN_HEIGHT_RATIO = 0.5
MAX_HEIGHT_RATIO = 2.0
# ... at most this wide for its height or the line's (wider is two digits or a line) ...
MAX_WIDTH_RATIO = 1.6
# ... and its pieces have gaps of at most this fraction of the height (a wider gap parts two digits).
MAX_INNER_GAP = 0.3
# A line is left out when it is under this fraction of the best-read line's height (a note beside it), or over its inverse.
MIN_LINE_HEIGHT_RATIO = 0.55
# A mark within this share of the picture's side from its edge is cut by it.
FRAME_MARGIN = 0.01
# Fewer pixels than this across (or down) is a scratch or a border's sliver, not a digit that can be read.
MIN_DIGIT_WIDTH = 2
MIN_DIGIT_HEIGHT = 8
# Written digits cover well under this share of a page, even a tight crop (real scans: at most 18% in 9 of 10);
# a page with more "ink" has its paper or ruling taken for ink (the wrong polarity), and reads runs of 1s.
MAX_INK_SHARE = 0.3
# Two slices of one mark that both read as 1 and touch in this top share of their height are one 1 and its flag
# (a continental 1 written as one stroke up and down, cut at its apex); 1s written touching meet lower down.
FLAG_JOIN = 1 / 3
# A group wider than this per tall is flatter than 9 in 10 MNIST zeros (their median: 0.9) ...
FLAT_ZERO_ASPECT = 1.1
# ... and if the verifier turns it down, it is tried again squeezed to these widths per tall (MNIST zeros' 10th
# percentile and median), in case it is a zero written flat.
ZERO_ASPECTS = (0.7, 0.9)
# A digit-tall mark left wholly unread between two digits read costs this much, as one side of a cut: reading it
# must not be dearer than dropping a digit from inside the number.
SKIPPED_MARK_PENALTY = CUT_PENALTY / 2
# How many segmentations per line the search keeps, to find a runner-up that reads differently.
KEEP_SEGMENTATIONS = 8


class _GroupReading(NamedTuple):
    """How the search weighs one group of pieces read as a digit."""

    gain: float  # log-gain over skipping its pieces: verifier x classifier (read as it is) against ACCEPT_SCORE
    probabilities: np.ndarray  # the answer: across stroke widths
    digit_score: float  # the verifier's "a digit at all"
    trail: list  # its digit stages
    plainly_one: bool  # read as a 1 as it is
    note: str = ""  # how it was read, where not as written


class _StagePredictions:
    """The classifier on every stage of a reading's digits: one model call, made when first looked at.

    Reading the number needs only the last stage's prediction; the ladder is for showing the
    stages (the app's Number tab), so a reading that is never shown never pays for it.
    """

    def __init__(self, trails, classifier):
        self.trails, self.classifier, self.ladders = trails, classifier, None

    def __getitem__(self, k: int) -> list[StageResult]:
        if self.ladders is None:
            predicted = classify_ladders([[img for _, img, _ in t] for t in self.trails], self.classifier)
            self.ladders = [[StageResult(s, img, skipped, p) for (s, img, skipped), p in zip(t, probs)]
                            for t, probs in zip(self.trails, predicted)]
        return self.ladders[k]


@dataclass
class DigitReading:
    box: tuple[int, int, int, int]  # x, y, w, h in the input image's pixels
    digit: int
    confidence: float
    probabilities: np.ndarray
    line: int = 0
    verifier: float = 1.0  # how sure the verifier is that this is a digit at all
    ladder: tuple[_StagePredictions, int] | None = field(default=None, repr=False, compare=False)

    @property
    def stages(self) -> list[StageResult]:
        """Every digit stage's output with the classifier's reading of it."""
        predictions, k = self.ladder
        return predictions[k]


@dataclass
class Segment:
    """One step of a segmentation: consecutive pieces read as a digit, or skipped (a non-digit or separator)."""

    box: tuple[int, int, int, int]  # x, y, w, h in the input image's pixels
    digit: int | None  # None: skipped
    confidence: float = 0.0  # the classifier's, for a digit
    verifier: float = 0.0  # the verifier's "is a digit", for a digit
    separator: str | None = None  # for a skipped piece shaped like . , - /
    pieces: int = 1
    note: str = ""  # how a digit was read, where it was not read as written ("squeezed to 0.7 wide")

    @property
    def label(self) -> str:
        if self.digit is not None:
            note = f", {self.note}" if self.note else ""
            return f"{self.digit} ({self.confidence:.0%}, digit {self.verifier:.0%}{note})"
        return f"'{self.separator}'" if self.separator else "skipped"


@dataclass
class Segmentation:
    """A way to read one line: its segments left to right and the search's total score."""

    score: float
    segments: list[Segment]

    @property
    def text(self) -> str:
        return "".join(str(s.digit) for s in self.segments if s.digit is not None)

    def describe(self) -> str:
        return " | ".join(s.label for s in self.segments)


@dataclass
class LineReading:
    box: tuple[int, int, int, int]  # x, y, w, h in the input image's pixels
    best: Segmentation
    runner_up: Segmentation | None
    text: str  # digits only
    text_with_separators: str  # digits with . , - / between them
    left_out: str | None = None  # why the line is not part of the reading


@dataclass
class NumberReading:
    text: str  # lines joined by "\n", digits only
    digits: list[DigitReading]
    page_stages: list[StageResult] = field(default_factory=list)
    reason: str | None = None  # why nothing was read
    lines: list[LineReading] = field(default_factory=list)  # every line found, read or left out
    text_with_separators: str = ""  # as ``text``, keeping . , - / between digits
    score: float = 0.0  # the read lines' total search score: how well the page reads as digits

    @property
    def segmentations(self) -> list[tuple[Segmentation, Segmentation | None]]:
        """(winner, runner-up) for each line that is part of the reading."""
        return [(ln.best, ln.runner_up) for ln in self.lines if ln.left_out is None]


def _digit_trail(ink: np.ndarray, box, mask, aspect: float | None = None):
    """The digit stages on one group's own ink (squeezed sideways to ``aspect`` wide per tall, if given);
    None if nothing usable is left."""
    x, y, w, h = box
    digit_ink = np.where(mask, ink[y:y + h, x:x + w], 0).astype(np.uint8)
    if aspect is not None:
        digit_ink = cv2.resize(digit_ink, (max(1, round(h * aspect)), h), interpolation=cv2.INTER_AREA)
    trail, why = run_stages(digit_ink, ROBUST_DIGIT_STAGES)
    return trail if why is None else None


def _faint_groups(page_trail, groups) -> set:
    """The groups whose marks stand too little above the paper to be ink, in the page as "Make ink white" left it."""
    grey = ink_white_picture(page_trail)
    faint = set()
    for group in groups if grey is not None else ():
        (x, y, w, h), mask_bytes = group
        above = seg.ink_above_paper(grey, np.frombuffer(mask_bytes, bool).reshape(h, w), (x, y))
        if above is not None and above < seg.INK_ABOVE_PAPER:
            faint.add(group)
    return faint


def _squeezed_trails(ink, groups) -> list:
    """[(group, width per tall, digit stages)]: each group flatter than MNIST's zeros (``FLAT_ZERO_ASPECT``) squeezed
    to MNIST zeros' widths (``ZERO_ASPECTS``). Cheque amounts write zeros flat ("0.000"); MNIST has few, and the
    verifier turns many down as written."""
    out = []
    for group in groups:
        box, mask_bytes = group
        if box[2] > FLAT_ZERO_ASPECT * box[3]:
            mask = np.frombuffer(mask_bytes, bool).reshape(box[3], box[2])
            out += [(group, aspect, t) for aspect in ZERO_ASPECTS
                    if (t := _digit_trail(ink, box, mask, aspect)) is not None]
    return out


def _candidate_groups(line: layout.Line):
    """(start, end) of every run of pieces that may be one digit, by geometry alone."""
    pieces, height = line.pieces, line.height
    groups = [(i, i + 1) for i in _slashes_at_the_ends(line)]
    for i in range(len(pieces)):
        if pieces[i].separator:
            continue
        for j in range(i + 1, min(len(pieces), i + MAX_NARROW_GROUP_PIECES) + 1):
            run = pieces[i:j]
            if run[-1].separator:
                break
            x, y, w, h = layout.union_box(run)
            if (w > MAX_WIDTH_RATIO * max(height, h) and w > 2) or (j - i > MAX_GROUP_PIECES and w > height):
                break
            gaps = [b.x - max(p.right for p in run[:k + 1]) for k, b in enumerate(run[1:])]
            if gaps and max(gaps) > MAX_INNER_GAP * height:
                break
            if (MIN_HEIGHT_RATIO * height <= h <= MAX_HEIGHT_RATIO * height and w >= MIN_DIGIT_WIDTH
                    and h >= MIN_DIGIT_HEIGHT and h <= layout.OUTLIER_HEIGHT_RATIO * line.page_height):
                groups.append((i, j))
    return groups


def _read_flagged_ones(line: layout.Line, scores: dict) -> None:
    """Where two slices of one mark both read as a 1 and meet at the top (``_meets_at_top``), their union may be
    read as that 1 with its flag (the better-read slice's reading and stages) where the union has no reading of its
    own: the verifier often turns down a 1 with a long flag (MNIST has few), and the stroke would read as "11"."""
    ones_from = {}  # piece -> the 1s read from it onwards: [(end, reading)]
    for (i, j), entry in scores.items():
        if entry.plainly_one:
            ones_from.setdefault(i, []).append((j, entry))
    for (i, k), stem in list(scores.items()):
        if not stem.plainly_one or k not in ones_from or line.pieces[k].join != layout.CUT:
            continue
        for j, other in ones_from[k]:
            flagged = max(stem, other, key=lambda e: e.gain)
            # Part of this mark's ink read better as another digit (a 4's two strokes meeting at its top): not a 1.
            read_otherwise = any(a < j and i < b and not entry.plainly_one and entry.gain >= flagged.gain
                                 and all(p.join != layout.GAP for p in line.pieces[min(a, i) + 1:max(b, j)])
                                 for (a, b), entry in scores.items())
            if not read_otherwise and _meets_at_top(line.pieces[i:k], line.pieces[k:j]):
                scores.setdefault((i, j), flagged._replace(note="a 1 with its flag"))


def _meets_at_top(left: list, right: list) -> bool:
    """Whether two runs of pieces, cut apart inside one mark, touch at the cut (the middle of the junction) in the
    top ``FLAG_JOIN`` of their height."""
    a, b = left[-1], right[0]
    rows = np.concatenate([a.y + np.flatnonzero(a.mask[:, -1]), b.y + np.flatnonzero(b.mask[:, 0])])
    top = min(p.y for p in left + right)
    height = max(p.bottom for p in left + right) - top
    return rows.size > 0 and np.median(rows) < top + FLAG_JOIN * height


def _slashes_at_the_ends(line: layout.Line) -> list[int]:
    """Slash-shaped pieces with no digit-tall mark before them, or none after: a number starts or ends with a 1, never a "/"."""
    tall = [k for k, p in enumerate(line.pieces) if not p.separator and p.h >= MIN_HEIGHT_RATIO * line.height]
    return [k for k, p in enumerate(line.pieces)
            if p.separator == "/" and (not tall or k < tall[0] or k > tall[-1])]


def _search(line: layout.Line, scores: dict, keep: int = KEEP_SEGMENTATIONS, ones=frozenset()):
    """The ``keep`` best segmentations of a line: [(score, [(start, end, is_digit)])], best first.

    ``scores[(i, j)]`` is the log-gain of reading pieces i..j-1 as one digit; skipping a piece
    gains nothing. A digit that holds only part of a mark (or of strokes that belong together)
    pays half of ``CUT_PENALTY`` for each side where it was cut off: two digits parted inside one
    mark pay it whole, so the reading must be clearly better than the mark read as one. A mark
    too wide to be one digit cannot be read as one: the cuts between digits its width demands
    (``_demanded_cuts``) are free, or a chain of touching digits could never be read whole; but
    not a cut beside a 1 (the spans in ``ones``): any sliver of a bar or a band reads as a 1. Once any
    digit is read from a mark, a slice of it of digit height left unread pays the same as a digit
    (leaving a body of touching digits unread is no cheaper than reading it; a tail or a flourish
    pays nothing); a mark left wholly unread pays nothing, unless it is digit-tall and digits are read on both
    sides of it (``SKIPPED_MARK_PENALTY``): a digit dropped from inside a number.
    """
    pieces = line.pieces
    n = len(pieces)
    tall = [p.h >= MIN_HEIGHT_RATIO * line.height for p in pieces]
    free_cuts = _demanded_cuts(line)

    # (next piece, whether the last step pays at a cut, whether its mark has a digit read) -> [(score, cut price
    #   still owed should a digit of this mark be read, free cuts left in this mark, price paid for digit-tall marks
    #   skipped since the last digit, path)]
    best = {(0, False, False): [(0.0, 0.0, 0, 0.0, [])]}
    mark_of = [0] * n
    for k in range(1, n):
        mark_of[k] = k if pieces[k].join == layout.GAP else mark_of[k - 1]
    digit_tall_marks = {mark_of[k] for k in range(n) if tall[k] and not pieces[k].separator}
    for i in range(n):
        new_mark = i == 0 or pieces[i].join == layout.GAP
        for last_pays in (False, True):
            for mark_read in (False, True):
                for score, owed, free, skipped, path in best.get((i, last_pays, mark_read), []):
                    if (new_mark and i > 0 and not mark_read and mark_of[i - 1] in digit_tall_marks
                            and any(d for *_, d in path)):
                        score, skipped = score - SKIPPED_MARK_PENALTY, skipped + SKIPPED_MARK_PENALTY
                    read_before, owed = (False, 0.0) if new_mark else (mark_read, owed)
                    free = free_cuts[i] if new_mark else free
                    steps = [(i + 1, 0.0, False)] + [(j, scores[(i, j)], True) for j in range(i + 1, n + 1)
                                                     if (i, j) in scores]
                    for j, gain, is_digit in steps:
                        pays = is_digit or tall[i]
                        price = 0.0 if new_mark else CUT_PENALTY / 2 * (last_pays + pays)
                        if read_before or is_digit:
                            # Only a cut between two digits read can be one the mark's width demands.
                            demanded = (bool(free) and is_digit and not new_mark and path[-1][2]
                                        and (i, j) not in ones and path[-1][:2] not in ones)
                            price = 0.0 if demanded else price
                            entry = (score + gain - price - (0.0 if read_before else owed), 0.0, free - demanded)
                        else:
                            entry = (score, owed + price, free)
                        entry += (0.0 if is_digit else skipped,)
                        best.setdefault((j, pays, read_before or is_digit), []).append((*entry, path + [(i, j, is_digit)]))
        for key in [k for k in best if k[0] == i + 1]:
            best[key] = _distinct_best(best[key], keep)
    # Marks skipped after the last digit read are not inside the number: their price is returned.
    ended = [(score + skipped, *rest, skipped, path) for k, v in best.items() if k[0] == n
             for score, *rest, skipped, path in v]
    return [(score, path) for score, *_, path in _distinct_best(ended, keep)]


def _demanded_cuts(line: layout.Line) -> list[int]:
    """For each piece that starts a mark, how many cuts between digits the mark's width demands (0 elsewhere):
    a mark over ``MAX_WIDTH_RATIO`` digit heights wide holds at least two digits, over twice that three, ..."""
    pieces, out = line.pieces, [0] * len(line.pieces)
    starts = [k for k, p in enumerate(pieces) if k == 0 or p.join == layout.GAP] + [len(pieces)]
    for a, b in zip(starts, starts[1:]):
        width = max(p.right for p in pieces[a:b]) - min(p.x for p in pieces[a:b])
        out[a] = max(0, math.ceil(width / (MAX_WIDTH_RATIO * line.height)) - 1)
    return out


def _best_piecing(found: list) -> int:
    """Which piecing of a line reads best, given each one's segmentations (``_search``): the highest-scoring
    (ties: the first, as written)."""
    return max(range(len(found)), key=lambda k: (found[k][0][0] if found[k] else 0.0, -k))


def _distinct_best(paths, keep):
    """The top ``keep`` paths whose digit groupings differ (skips merged: they read the same)."""
    out, seen = [], set()
    for entry in sorted(paths, key=lambda p: -p[0]):
        key = tuple((i, j) for i, j, d in entry[-1] if d)
        if key not in seen:
            seen.add(key)
            out.append(entry)
            if len(out) == keep:
                break
    return out


def read_number(image, classifier=None, model: str = DEFAULT_MODEL, verifier=None) -> NumberReading:
    """Read every number in the image; the text has one line per line of digits."""
    rgb = as_image_array(image)
    classifier = classifier or load_classifier(model)
    if verifier is None:
        from .verifier import load_verifier

        verifier = load_verifier()
    # Where the page rules cannot decide (both polarities equally likely), every such page is read
    # and the one that reads best kept; the rest are made and tried only when those read nothing.
    tied = explore(rgb, ROBUST_PAGE_STAGES, within=0.0)
    readings = [_read_page(rgb, p.trail, p.reason, classifier, verifier) for p in tied]
    reading = max(readings, key=lambda r: r.score)  # first wins ties: the rules' own page
    if not reading.text:
        # The rules' page may be wrong (ink taken for paper on coloured or shadowed paper, faint ink): try the others.
        for path in explore(rgb, ROBUST_PAGE_STAGES, fallbacks=True)[len(tied):]:
            if ps.GRAIN_SMOOTHED in path.choices.values():
                continue  # the first page that reads is kept, unweighed: smoothed ruling read as 1s ("11" on a lined page)
            other = _read_page(rgb, path.trail, path.reason, classifier, verifier)
            if other.text:
                return other
    return reading


def _read_page(rgb, trail, reason, classifier, verifier) -> NumberReading:
    page = [StageResult(s, img, skipped) for s, img, skipped in trail]
    if reason is not None:
        return NumberReading("", [], page, reason)
    ink = trail[-1][1]
    if np.count_nonzero(ink) > MAX_INK_SHARE * ink.size:
        return NumberReading("", [], page, f"over {MAX_INK_SHARE:.0%} of the picture is ink: paper taken for ink")
    scale = rgb.shape[1] / ink.shape[1]  # working size -> input pixels
    lines = layout.find_lines(ink)
    if not lines:
        return NumberReading("", [], page, "no marks found")

    # Every candidate group of every line through the digit stages, then one batch per model.
    # A line may come pieced several ways (an underline kept or erased, cuts upright or along the
    # slant): each is read and the best kept. Most groups are the same ink in every piecing: run once.
    variants = [v for line in lines for v in [line] + line.alternatives]
    trails, entries = {}, []  # trails: group's (box, ink) -> its digit stages; entries: (variant, (i, j), group)
    for index, line in enumerate(variants):
        for i, j in _candidate_groups(line):
            box, mask = layout.union_mask(line.pieces[i:j])
            group = (box, mask.tobytes())
            if group not in trails:
                trails[group] = _digit_trail(ink, box, mask)
            if trails[group] is not None:
                entries.append((index, (i, j), group))
    groups = [g for g, t in trails.items() if t is not None]
    squeezed = _squeezed_trails(ink, groups)
    finals = [trails[g][-1][1] for g in groups] + [t[-1][1] for *_, t in squeezed]
    verified = verifier.digit_scores(np.stack(finals)) if finals else []
    digit_score = dict(zip(groups, verified[:len(groups)]))
    # A group must be ink, as a single digit must (``seg.INK_ABOVE_PAPER``): grain or a shadow's edge is not read.
    faint = _faint_groups(trail, [g for g in groups if digit_score[g] >= ACCEPT_SCORE])
    for g in faint:
        digit_score[g] = 0.0
    # A group the verifier rejects gains less than skipping its pieces, whatever the classifier says: not asked.
    asked = [g for g in groups if digit_score[g] >= ACCEPT_SCORE]
    # A flat group it rejects as written may be a flat zero: its squeezed views that it takes are asked too.
    tries = [(g, aspect, t, float(v)) for (g, aspect, t), v in zip(squeezed, verified[len(groups):])
             if digit_score[g] < ACCEPT_SCORE <= v and g not in faint]
    # The search weighs each group as the classifier reads it as it is; the digit it is read as is the answer
    # across stroke widths, as a single digit's is (a European 1 whose flag thickens into a 7's bar is a 1 at
    # the other two). Both come from one model call; the search's constants were chosen on the plain readings.
    views = [trails[g][-1][1] for g in asked] + [t[-1][1] for _, _, t, _ in tries]
    voted, plain = (predict_across_stroke_widths(np.stack([as_model_input(v) for v in views]), classifier,
                                                 with_plain=True) if views else ([], []))

    def reading(v, p, answer, trail, note=""):
        gain = float(np.log(v + 1e-6) + np.log(p.max() + 1e-6) - np.log(ACCEPT_SCORE))
        return _GroupReading(gain, answer, v, trail, bool(p.argmax() == 1), note)

    judged = {g: reading(float(digit_score[g]), p, answer, trails[g]) for g, p, answer in zip(asked, plain, voted)}
    # Of a rejected group's squeezed views, the one the verifier likes best among those read as a 0 stands for it.
    for (g, aspect, trail, v), p, answer in zip(tries, plain[len(asked):], voted[len(asked):]):
        if p.argmax() == 0 and (g not in judged or v > judged[g].digit_score):
            judged[g] = reading(v, p, answer, trail, f"squeezed to {aspect:.1f} wide")
    per_variant = [dict() for _ in variants]
    for index, span, group in entries:
        if group in judged:
            per_variant[index][span] = judged[group]
    for line, scores in zip(variants, per_variant):
        _read_flagged_ones(line, scores)

    def px(box):
        return tuple(int(round(v * scale)) for v in box)

    searched = [_search(v, {span: entry.gain for span, entry in scores.items()},
                        ones={span for span, entry in scores.items() if entry.plainly_one})
                for v, scores in zip(variants, per_variant)]
    per_line, found_per_line, first = [], [], 0
    for k, line in enumerate(lines):
        options = range(first, first + 1 + len(line.alternatives))
        pick = options[_best_piecing([searched[o] for o in options])]
        lines[k] = variants[pick]
        per_line.append(per_variant[pick])
        found_per_line.append(searched[pick])
        first = options.stop

    line_readings, winners = [], []
    for index, line in enumerate(lines):
        found = found_per_line[index]
        segmentations = []
        for score, path in found:
            segments = []
            for i, j, is_digit in path:
                run = line.pieces[i:j]
                box = px(layout.union_box(run))
                if is_digit:
                    group = per_line[index][(i, j)]
                    p = group.probabilities
                    segments.append(Segment(box, int(p.argmax()), float(p.max()), group.digit_score, pieces=j - i,
                                            note=group.note))
                else:
                    segments.append(Segment(box, None, separator=run[0].separator))
            segmentations.append(Segmentation(score, segments))
        best = segmentations[0]
        # The runner-up: the best other reading, else the best other grouping of the same digits.
        others = [sg for sg in segmentations[1:] if sg.text != best.text] or segmentations[1:]
        runner_up = others[0] if others else None
        x, y, w, h = layout.union_box(line.pieces)
        reading = LineReading(px((x, y, w, h)), best, runner_up, best.text, _with_separators(best))
        reading.left_out = _why_left_out(line, best)
        line_readings.append(reading)
        winners.append([(i, j) for i, j, d in found[0][1] if d])
    _leave_out_other_lines(lines, line_readings, ink.shape)

    chosen = [(index, span) for index, spans in enumerate(winners) if line_readings[index].left_out is None
              for span in spans]
    predictions = _StagePredictions([per_line[i][s].trail for i, s in chosen], classifier)
    digits = []
    for k, (index, span) in enumerate(chosen):
        group = per_line[index][span]
        p = group.probabilities
        box = px(layout.union_box(lines[index].pieces[span[0]:span[1]]))
        digits.append(DigitReading(box, int(p.argmax()), float(p.max()), p, index, group.digit_score, (predictions, k)))
    kept = [r for r in line_readings if r.left_out is None and r.text]
    text = "\n".join(r.text for r in kept)
    why = None if text else "no line of marks reads as digits"
    return NumberReading(text, digits, page, why, line_readings, "\n".join(r.text_with_separators for r in kept),
                         sum(r.best.score for r in kept))


def _leave_out_other_lines(lines: list[layout.Line], readings: list[LineReading], shape) -> None:
    """Mark the lines that read but are not the number, with the reason.

    The number is the line that reads best; lines of a very different size are something else,
    and so are lines the picture's edge cuts (the next register cell), unless they are all there
    is. A single stroke is as likely a ruling's fragment or a tick as a 1: a line that reads a
    lone 1 counts only where no other line reads.
    """
    def read(r):
        return r.left_out is None

    if not any(read(r) for r in readings):
        return
    strokes_only = all(r.text == "1" for r in readings if read(r))

    def counts(r):
        return read(r) and (strokes_only or r.text != "1")

    height = max((r.best.score, ln.height) for ln, r in zip(lines, readings) if counts(r))[1]
    for ln, r in zip(lines, readings):
        if read(r) and ln.height < MIN_LINE_HEIGHT_RATIO * height:
            r.left_out = "much smaller than the number: a note beside it"
        elif read(r) and MIN_LINE_HEIGHT_RATIO * ln.height > height:
            r.left_out = "much bigger than the number: a border or a stray mark"
    cut_off = [_at_frame(layout.union_box(ln.pieces), shape) for ln in lines]
    if any(counts(r) and not c for r, c in zip(readings, cut_off)):
        for r, c in zip(readings, cut_off):
            if read(r) and c:
                r.left_out = "cut by the picture's edge: part of something outside it"
    if any(read(r) and r.text != "1" for r in readings):
        for r in readings:
            if read(r) and r.text == "1":
                r.left_out = "a lone stroke: a ruling's fragment or a tick, not a number"


def _at_frame(box, shape) -> bool:
    """Whether a box reaches the picture's edge (within FRAME_MARGIN of a side)."""
    x, y, w, h = box
    rows, cols = shape
    mx, my = FRAME_MARGIN * cols + 1, FRAME_MARGIN * rows + 1
    return x < mx or y < my or x + w > cols - mx or y + h > rows - my


def _with_separators(seg: Segmentation) -> str:
    """Digits with the separators that stand between them (not before the first or after the last digit)."""
    digits = [k for k, s in enumerate(seg.segments) if s.digit is not None]
    if not digits:
        return ""
    out = ""
    for s in seg.segments[digits[0]:digits[-1] + 1]:
        if s.digit is not None:
            out += str(s.digit)
        elif s.separator and (not out or out[-1].isdigit()):
            out += s.separator
    return out


def _why_left_out(line: layout.Line, best: Segmentation) -> str | None:
    """A line is left out when nothing in it reads as a digit, or its digit-sized marks are mostly not digits."""
    read = [s for s in best.segments if s.digit is not None]
    if not read:
        return "no digits"
    tall_skipped = sum(1 for s, p in _skipped_pieces(line, best) if p.h >= MIN_HEIGHT_RATIO * line.height)
    if tall_skipped > len(read):
        return f"mostly marks that are not digits ({tall_skipped} against {len(read)} digits): text or ruling"
    return None


def _skipped_pieces(line: layout.Line, best: Segmentation):
    k = 0
    for s in best.segments:
        if s.digit is None and not s.separator:
            yield s, line.pieces[k]
        k += s.pieces


def explain_reading(reading: NumberReading) -> str:
    """The lines found, each with its winning segmentation and the runner-up, as text."""
    if not reading.lines:
        return f"  no lines ({reading.reason})"
    out = []
    for k, ln in enumerate(reading.lines):
        x, y, w, h = ln.box
        state = f"left out: {ln.left_out}" if ln.left_out else f"read {ln.text!r}"
        out.append(f"  line {k + 1} at x={x} y={y} ({w}x{h}): {state}")
        out.append(f"    best      ({ln.best.score:+.2f}): {ln.best.describe()}")
        if ln.runner_up is not None:
            out.append(f"    runner-up ({ln.runner_up.score:+.2f}) {ln.runner_up.text!r}: {ln.runner_up.describe()}")
    return "\n".join(out)

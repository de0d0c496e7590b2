"""The pipelines as data: ordered lists of named stages, and ``recognize``, which runs them and reports every stage.

The app, the CLI, the evaluation and the tests read ``PIPELINES``; no stage name or order
is written anywhere else. A stage that makes a decision a photo can get wrong offers
alternatives; ``recognize`` carries every combination through the remaining stages and lets
the verifier choose (``Recognition.alternatives`` lists them with their scores).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from . import article_stages as ast
from . import mnist_stages as ms
from . import page_region
from . import photo_stages as ps
from . import segmentation as seg
from .errors import DigitlabError, NoDigit
from .hypotheses import Hypothesis, Stage, explore, run_stages
from .imageio import as_image_array
from .model import DEFAULT_MODEL, load_classifier
from .readings import as_model_input, choose, classify_ladders, ladder_views, per_stage

# Below this verifier score, the best hypothesis is "not a digit" and the answer is "no digit"; the
# verifier scores 99.6% of MNIST's test digits above it (its held-out negatives: 98% below 0.5).
NOT_A_DIGIT_BELOW = 0.2
# ... and on a drawing or flat canvas, where someone drew what is there: a digit is far likelier than on a
# photo's paper, so only a near-certain "not a digit" refuses (0.2% of pen-drawn MNIST test digits score
# below it, 0.5% below NOT_A_DIGIT_BELOW; 5% of held-out negatives score above it, 2.5% above that).
NOT_A_DIGIT_BELOW_DRAWN = 0.02
# A best reading refused as "not a digit" gives way to the best of those the verifier scores at least this: its own
# boundary, a digit more likely than not (readings it scored 20-50%, tuning seeds: 1 right, 1 misread, and an empty
# page read as a 1).
GIVE_WAY_TO = 0.5
# When the rules' own reading ends in "no digit" (noise, texture, blank), another reading overturns that
# only if the verifier is this sure of it: searching many readings of noise finds digit-like shapes.
OVERTURN_NO_DIGIT_BELOW = 0.95
# Fallback decisions (faint ink stretched) are tried when no reading is a digit to the verifier at this level
# (or when the stretch finds more ink around the chosen reading's marks: it may be a fragment).
FALLBACK_BELOW = 0.95
# How likely each decision rule is wrong, a priori: a choice other than the rule's costs this factor,
# so an alternative must look clearly more like a digit to win (bench/tune_choice.py, tuning seeds).
GRAYSCALE_PRIOR = 0.1  # offered on strongly coloured paper (the darkest channel may lose grey ink), and a page on a desk
POLARITY_PRIOR = 0.1  # the histogram rule fails only on close-ups; a wrong polarity can still yield a "1"
LIGHTING_PRIOR = 0.1  # the lighting rule is about the paper, not the ink: often either estimate works
LINES_PRIOR = 0.1  # most long straight lines in a photo are ruling, page or table edges
MARKS_PRIOR = 0.1  # the mark with the most ink is usually the digit
CONTRAST_PRIOR = 0.1  # most photos' ink is strong; stretched paper grain must not outscore it
STROKE_PRIOR = 0.1  # a closed loop is usually a pinhole in a pencil stroke, or a gap the pen left
THRESHOLD_PRIOR = 0.1  # Otsu's level suits crisp ink, which most is; a soft stroke's core must convince the verifier
# A reading whose marks lie inside another reading's (FRAGMENT_INSIDE of them), which has FRAGMENT_GROWTH
# times more ink and is a digit to the verifier (FRAGMENT_OF_A_DIGIT), is a fragment of that digit: it
# costs FRAGMENT_PRIOR, more than one overturned rule, so the whole mark wins where both read well.
FRAGMENT_PRIOR = 0.03
FRAGMENT_INSIDE = 0.9
FRAGMENT_GROWTH = 1.3
FRAGMENT_OF_A_DIGIT = 0.5
# ... and not clearly worse a digit than the part: more ink that reads worse is the digit with junk attached (grid
# lines, a shadow's edge), not the digit made whole.
FRAGMENT_WHOLE_SHARE = 0.8
# The marks are compared at this long side (enough to see a stroke; fast for 40 paths).
FRAGMENT_CHECK_SIDE = 160
# Where the whole differs from the part in lighting, its marks beyond the part's outline widened by this many pixels (the
# two lightings draw the same stroke's edge a little apart) must be ink (``seg.INK_ABOVE_PAPER``): the paper-level and
# the shadow-scaled lightings also keep a shadow's edge that touches the digit, which is no ink (a 0 with it reads 2).
FRAGMENT_EDGE = 2
# ... and stand above their paper at least this share of what the part's own ink does: the same pen's ink, not the
# brightest strip of a hard shadow beside the digit (it stood 15 grey levels above its mixed surround, the 6 itself 68).
FRAGMENT_MORE_INK_SHARE = 0.4
# Grain smoothing widens every stroke: a grain-smoothed whole's marks count only beyond the part's widened by this many
# pixels at FRAGMENT_CHECK_SIDE (a stroke 1-2 pixels wide there doubles in area by the blur alone).
GRAIN_WIDENING = 1
# Whether the grain-smoothed picture completes a reading is first checked at this long side: its strokes are blurred
# anyway, and the threshold at the working size cost ~8 ms a photo.
GRAIN_CHECK_SIDE = 320
# A photo's best readings are checked for pieces of longer lines at most this many deep (each check samples a strip
# of the picture; on a blank grid page every reading is a piece, and the first is refused).
LINE_PIECE_CHECKS = 4


# Photo stages: the whole image in, clean bright ink on black out. Shared with the number reader.
ROBUST_PAGE_STAGES = (
    Stage("transparency", "Flatten transparency",
          "Drawings often come as ink on a transparent canvas; put them on a contrasting background.",
          ps.flatten_transparency),
    Stage("working_size", "Working size",
          "Shrink big photos to 1280 px so every later step is fast; small digits stay large enough.",
          ps.working_size),
    Stage("grayscale", "Ink-preserving grayscale",
          "Take the darkest colour channel, so blue or red ink stays as dark as black ink (on coloured paper, the channel where the ink stands out most; a page on a dark desk is also tried alone).",
          ps.coloured_paper_grayscale, can_skip=False, options=ps.grayscale_options, overturn_prior=GRAYSCALE_PRIOR,
          fallback_options=page_region.page_alone_options),
    Stage("polarity", "Make ink white",
          "MNIST digits are white on black: invert unless the background is already dark (both ways are tried; the verifier keeps the one that yields a digit).",
          ps.auto_polarity, options=page_region.polarity_options, overturn_prior=POLARITY_PRIOR),
    Stage("lighting", "Even out lighting",
          "Subtract a smooth estimate of the paper, so shadows and uneven light disappear (or only its level, if that reads better: bold strokes are wider than any shadow-following estimate).",
          ps.even_lighting, options=ps.lighting_options, overturn_prior=LIGHTING_PRIOR),
    Stage("contrast", "Stretch faint ink",
          "Where the ink is faint (pencil, a dim photo), also try it with the contrast stretched, so the threshold does not erase it; on a photo, also with the camera's grain smoothed, so it does not break thin strokes into specks (on a small scan or crop, with its faint tones lifted, so a thin pen's fainter stretches stay).",
          ps.keep_contrast, options=ps.contrast_options, overturn_prior=CONTRAST_PRIOR, fallback=True),
    Stage("threshold", "Threshold",
          "Keep only pixels clearly brighter than the paper (Otsu's method), dropping texture and faint lines (for soft, blurred strokes only their core, and only their ridges, are tried too).",
          ps.threshold_ink, options=ps.threshold_options, overturn_prior=THRESHOLD_PRIOR),
    Stage("lines", "Remove ruled lines",
          "Erase long thin straight lines, level or up to 10 degrees off (paper photographed askew): ruled or squared paper and page edges (a digit's own long stroke may look like one, so keeping them is tried too; on a drawing's canvas, keeping them is the rule).",
          ps.remove_ruled_lines, options=ps.lines_options, overturn_prior=LINES_PRIOR),
)

ISOLATE_STAGE = Stage(
    "isolate", "Find the digit",
    "Keep the mark with the most ink (a mark the frame cuts comes after those wholly in view) and the strokes that belong to it; drop specks, edges and other marks (the next candidates are tried too, and the biggest mark once thin grid lines are taken away; on a drawing every stroke is kept).",
    seg.isolate_digit, options=seg.digit_options, overturn_prior=MARKS_PRIOR,
)

# Digit stages: one digit's ink in, a 28x28 MNIST-like image out. Shared with the number reader.
ROBUST_DIGIT_STAGES = (
    Stage("crop", "Crop",
          "Cut away the empty margin around the digit.",
          ms.crop_to_ink),
    Stage("stroke", "Normalise stroke width",
          "Thicken thin pen lines and thin thick brush strokes to MNIST's stroke width (where closing pinholes closed a loop, the open loop is tried too; where pieces lie a gap apart, joined too; where nothing convinced the verifier, bold strokes thinned further).",
          ms.normalize_stroke, options=ms.stroke_options, overturn_prior=STROKE_PRIOR,
          fallback_options=ms.thinner_stroke_options),
    Stage("fit", "Fit into 20x20",
          "Shrink the digit so its longer side is 20 pixels, keeping its shape, with smooth edges.",
          ms.fit_box),
    Stage("pad", "Pad to 28x28",
          "Add a black border to reach MNIST's 28x28 frame.",
          ms.pad_frame),
    Stage("center", "Centre by mass",
          "Shift the digit so its centre of mass is in the middle, exactly as MNIST was made.",
          ms.center_by_mass),
)

ARTICLE_STAGES = (
    Stage("grayscale", "Grayscale", "Turn the colour photo into shades of grey.", ast.article_grayscale, can_skip=False),
    Stage("invert", "Invert", "MNIST digits are white on black: swap dark and light.", ast.invert),
    Stage("resize", "Resize to 28x28", "Squash the whole image to MNIST's 28x28 pixels.", ast.resize_frame),
    Stage("threshold", "Threshold", "Turn every pixel pure black or white (Otsu's method).", ast.article_threshold),
    Stage("crop", "Crop", "Cut away empty rows and columns around the digit.", ms.crop_to_ink),
    Stage("fit", "Fit into 20x20", "Resize so the longer side is 20 pixels, keeping the shape.", ast.article_fit_box),
    Stage("pad", "Pad to 28x28", "Add a black border to reach 28x28.", ms.pad_frame),
    Stage("center", "Centre by mass", "Shift the digit so its centre of mass is in the middle.", ms.center_by_mass),
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


@dataclass
class StageResult:
    stage: Stage
    image: np.ndarray | None  # the stage's output (None if an earlier stage found no digit)
    skipped: bool = False
    probabilities: np.ndarray | None = None  # the model on this output squashed to 28x28
    choice: str | None = None  # at a decision stage: which alternative this ladder took

    @property
    def digit(self) -> int | None:
        return None if self.probabilities is None else int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float | None:
        return None if self.probabilities is None else float(np.max(self.probabilities))


@dataclass
class Alternative:
    """A hypothesis as the result lists it: what was decided, what the models said of its final image."""

    label: str
    digit: int | None
    confidence: float
    verifier: float  # how sure the verifier is that the final image is a digit
    chosen: bool = False
    reason: str | None = None  # why this path ended without an image
    log_prior: float = 0.0  # log of the prior for the rules it overturned
    overturned: tuple[str, ...] = ()  # which decision stages it overturned
    faint: float | None = None  # the chosen reading of a photo: its marks' grey levels above the paper, if too few for ink
    line_piece: bool = False  # a photo's reading whose marks are a piece of a longer straight line

    @property
    def verdict(self) -> str:
        if self.faint is not None:
            return f"refused: only {self.faint:.0f} grey levels above its paper, not ink"
        if self.line_piece:
            return "refused: a piece of a longer straight line that runs on beyond it"
        return "kept" if self.chosen else "rejected"

    def describe(self) -> str:
        """One line: what was decided, what the models said, and whether it was kept."""
        if self.digit is None:
            return f"{self.label}: ended early ({self.reason})"
        return (f"{self.label}: {self.digit} ({self.confidence:.0%}), looks like a digit {self.verifier:.0%}"
                f" -> {self.verdict}")


@dataclass(frozen=True)
class LeftOut:
    """Readings of a photo not carried to the end: each overturns a rule, and none could beat the kept one."""

    prior: float  # the highest prior any of them had
    kept_score: float  # the kept reading's: looks like a digit x the model's confidence x its prior

    def describe(self) -> str:
        return (f"Readings that overturn another rule were not carried to the end: none had a prior above "
                f"{self.prior:.0%}, and no score is above 100%, so none could beat the kept reading's {self.kept_score:.0%}.")


@dataclass
class Recognition:
    """A pipeline's answer for one image, with every stage on the way and the alternatives weighed."""

    pipeline: str
    model: str
    stages: list[StageResult]
    model_input: np.ndarray | None  # the final 28x28 float image, or None if no digit
    probabilities: np.ndarray | None
    reason: str | None = None  # why there is no digit
    skipped: frozenset = field(default_factory=frozenset)
    alternatives: list[Alternative] = field(default_factory=list)  # best first; one is ``chosen``
    source: str = ps.SOURCE_PHOTO  # what the input was taken for: a drawing, a flat canvas or a photo
    left_out: LeftOut | None = None  # readings not carried to the end, because none of them could win

    @property
    def digit(self) -> int | None:
        return None if self.probabilities is None else int(np.argmax(self.probabilities))

    @property
    def confidence(self) -> float:
        return 0.0 if self.probabilities is None else float(np.max(self.probabilities))

    @property
    def verifier(self) -> float | None:
        chosen = [a for a in self.alternatives if a.chosen]
        return chosen[0].verifier if chosen else None

    def top(self, k: int = 3) -> list[tuple[int, float]]:
        if self.probabilities is None:
            return []
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(int(d), float(self.probabilities[d])) for d in order]

    def summary(self) -> str:
        if self.digit is None:
            return f"no digit ({self.reason})"
        return f"{self.digit} ({self.confidence:.1%})"


def _verifier_for(pipeline: str, verifier):
    """The robust pipeline weighs its alternatives with the verifier; the article's has none to weigh."""
    if pipeline != "robust":
        return None
    if verifier is None:
        from .verifier import load_verifier

        verifier = load_verifier()
    return verifier


def _marks(path: Hypothesis) -> np.ndarray | None:
    """The marks a path took for the digit, in the working frame (shared by every path)."""
    return next((out for stage, out, _ in path.trail if stage.name == ISOLATE_STAGE.name), None)


def _marks_mask(path: Hypothesis) -> np.ndarray | None:
    """``_marks`` at a small size, as a mask."""
    marks = _marks(path)
    return None if marks is None else ps.downscaled(marks, FRAGMENT_CHECK_SIDE) > 0


def ink_white_picture(trail) -> np.ndarray | None:
    """The picture as "Make ink white" left it (ink bright, paper dark) in a trail; None if it was skipped."""
    return next((out for stage, out, skipped in trail if stage.name == "polarity" and not skipped), None)


def _ink_above_paper(path: Hypothesis, marks: np.ndarray | None = None) -> float | None:
    """``seg.ink_above_paper`` for the marks a path took (or ``marks`` in its frame), in the picture as "Make ink
    white" left it."""
    grey = ink_white_picture(path.trail)
    marks = _marks(path) if marks is None else marks
    if grey is None or marks is None or grey.shape != marks.shape:
        return None
    return seg.ink_above_paper(grey, marks)


def _runs_on_as_a_line(path: Hypothesis) -> bool:
    """``seg.runs_on_as_a_line`` for the marks a path took, in the picture its threshold worked on."""
    names = [stage.name for stage, _, _ in path.trail]
    if "threshold" not in names:
        return False
    picture = path.trail[names.index("threshold") - 1][1]
    marks = _marks(path)
    return (picture is not None and marks is not None and picture.shape == marks.shape
            and seg.runs_on_as_a_line(picture, marks))


# Decisions that only add or keep ink of the same marks: where two paths differ in one of these alone, the one
# whose marks are a part of the other's is a fragment (shadow-following lighting breaks a bold stroke; the threshold's
# fixed level erases the fainter side of a digit in a dim photo, which the stretched contrast keeps).
FRAGMENT_DECISIONS = ("lighting", "contrast")


# Decisions taken after the marks are found: they do not change which marks a path took, so paths that differ in them
# too are compared all the same (a fragment whose pieces are joined across a gap is still a fragment).
_AFTER_THE_MARKS = frozenset(stage.name for stage in ROBUST_DIGIT_STAGES)


def _differ_only_in(a: Hypothesis, b: Hypothesis, decision: str) -> bool:
    """Whether two paths took different ``decision``s and, at every other stage up to the marks, the same choice or
    each the rule's.

    A rule's choice depends on the picture it is given, which the decision changed: where neither path overturned a
    stage's rule, they count as the same there. Ruling found in one picture and not in the other (the grain smoothed,
    a squared page's faint grid no longer reads as lines, but erasing it had taken a 9's loop with it); the rule's
    mark, or that mark cleaned of what clung to it (``seg.CLEANED_MARK_SHARE``), which is a fragment wherever the mark
    it was cleaned from is.
    """
    keys = (set(a.choices) | set(b.choices)) - {decision} - _AFTER_THE_MARKS
    keys &= set(a.overturned + b.overturned)
    return a.choices.get(decision) != b.choices.get(decision) and all(a.choices.get(k) == b.choices.get(k) for k in keys)


def _is_fragment(part: np.ndarray | None, whole: np.ndarray | None) -> bool:
    """Whether the marks ``part`` (a mask) lie inside ``whole`` and are clearly less ink."""
    if part is None or whole is None:
        return False
    area = int(np.count_nonzero(part))
    return (0 < area and np.count_nonzero(whole) >= FRAGMENT_GROWTH * area
            and np.count_nonzero(part & whole) >= FRAGMENT_INSIDE * area)


def _adds_marks(part: np.ndarray | None, whole: np.ndarray | None) -> bool:
    """``_is_fragment`` for a grain-smoothed ``whole``: its marks cover ``part`` (masks) and add as much beyond the
    part's marks widened by ``GRAIN_WIDENING`` as ``_is_fragment`` asks of a whole in all."""
    if part is None or whole is None:
        return False
    area = int(np.count_nonzero(part))
    widening = np.ones((2 * GRAIN_WIDENING + 1,) * 2, np.uint8)
    covered = np.count_nonzero(part & (cv2.dilate(whole.view(np.uint8), widening) > 0))
    beyond = np.count_nonzero(whole & (cv2.dilate(part.view(np.uint8), widening) == 0))
    return 0 < area and covered >= FRAGMENT_INSIDE * area and beyond >= (FRAGMENT_GROWTH - 1) * area


def _fragment_log_priors(paths: list[Hypothesis], scores: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """log(FRAGMENT_PRIOR) for each path whose marks are a part of what another path reads as another digit.

    Lighting that follows a shadow can break a bold stroke; the piece left (the top loop of an
    8) is a fine digit by itself. Faint ink under the threshold's fixed level loses its fainter
    strokes (a 7's bar); a grainy photo breaks a thin stroke into specks the threshold drops (a 4's
    bar and left stroke, leaving a 1), which smoothing the grain joins. The path that differs only in that decision
    and reads the whole mark as a digit explains more of the same ink, and is the better account of the picture. The
    whole is judged as the digit stages' rules leave it (joining a whole's pieces to something else can make a digit
    of marks that are not one).
    (Between other decisions, more ink is often a digit with a border or a dot attached.) Where the whole reads as
    the same digit, the two agree, and the part keeps its score: charged alone, it lost to readings of other marks
    (a page on a desk: its 3, whole only with the contrast stretched, which overturns a rule, lost to the desk's edge).
    A whole that another lighting made is one only where what it adds is ink (``_more_is_ink``); one the grain
    smoothing made, only where it adds marks beyond the part's widened strokes (``_adds_marks``).
    """
    out = np.zeros(len(paths), np.float32)
    decisions = [d for d in FRAGMENT_DECISIONS if len({p.choices.get(d) for p in paths}) > 1]
    if not decisions:
        return out  # one lighting and one contrast only (a drawing, a flat canvas): nothing to compare
    masks = [_marks_mask(p) for p in paths]
    for i, mi in enumerate(masks):
        for j, mj in enumerate(masks):
            if (j == i or digits[j] == digits[i] or scores[j] < max(FRAGMENT_OF_A_DIGIT, FRAGMENT_WHOLE_SHARE * scores[i])
                    or _AFTER_THE_MARKS.intersection(paths[j].overturned)):
                continue
            differing = next((d for d in decisions if _differ_only_in(paths[i], paths[j], d)), None)
            if differing is None:
                continue
            smoothed = differing == "contrast" and paths[j].choices.get(differing) == ps.GRAIN_SMOOTHED
            if ((_adds_marks if smoothed else _is_fragment)(mi, mj)
                    and (differing != "lighting" or _more_is_ink(paths[i], paths[j]))):
                out[i] = np.log(FRAGMENT_PRIOR)
                break
    return out


def _more_is_ink(part: Hypothesis, whole: Hypothesis) -> bool:
    """Whether the marks ``whole`` took beyond ``part``'s stand above their paper as ink does, and a good share as far
    as the part's own ink (``FRAGMENT_MORE_INK_SHARE``; or no paper shows around them to tell): more of the digit, not
    a shadow's edge the other lighting kept with it.

    Only lighting is judged so: the stretched contrast adds ink fainter than the threshold's level by design (the
    fainter side of a small, blurred 9's loop stands 9 grey levels above its paper).
    """
    part_marks, whole_marks = _marks(part), _marks(whole)
    if part_marks is None or whole_marks is None:
        return True
    widened = cv2.dilate((part_marks > 0).view(np.uint8), np.ones((2 * FRAGMENT_EDGE + 1,) * 2, np.uint8))
    more = ((whole_marks > 0) & (widened == 0)).view(np.uint8)
    above = _ink_above_paper(whole, more) if more.any() else None
    if above is None:
        return True
    own = _ink_above_paper(part)
    return above >= max(seg.INK_ABOVE_PAPER, FRAGMENT_MORE_INK_SHARE * (own or 0))


def _fallback_completes(path: Hypothesis, source: str) -> bool:
    """Whether a fallback decision's alternative, taken on ``path`` with its other choices kept (of the candidate
    marks, those holding most of the path's), finds more ink around the same marks (the stretched contrast of a dim
    photo: the threshold erased the fainter strokes), or the grain-smoothed picture more marks (``_grain_adds_marks``).

    Then the reading may be a fragment, though a convincing one, and the fallbacks are worth weighing.
    """
    for at, (stage, _, skipped) in enumerate(path.trail):
        if stage.fallback and stage.options is not None and not skipped and at > 0:
            break
    else:
        return False
    try:
        options = stage.options(path.trail[at - 1][1], source)
        smoothed = [picture for label, picture, *_ in options if label == ps.GRAIN_SMOOTHED]
        if smoothed and _grain_adds_marks(path, smoothed[0]):
            return True
        options = [o for o in options if o[0] != ps.GRAIN_SMOOTHED]
        if len(options) < 2:
            return False
        label, picture = options[1][:2]
        whole = Hypothesis(path.trail[:at], path.choices).then(stage, picture, choice=label, prior=stage.overturn_prior)
        for later, _, skipped in path.trail[at + 1:]:
            if skipped:
                whole = whole.then(later, whole.output, True)
            elif later.options is None:
                whole = whole.then(later, later.func(whole.output))
            elif later.name == ISOLATE_STAGE.name:
                # The candidate holding most of the path's marks, whatever the other picture names it: there the
                # grain or a fainter stroke can join them to a mark the frame cuts, or change the marks' order.
                part = _marks_mask(path)
                candidates = [ps.downscaled(marks, FRAGMENT_CHECK_SIDE) > 0
                              for _, marks, *_ in later.options(whole.output, source)]
                held = [np.count_nonzero(part & candidate) for candidate in candidates]
                return _is_fragment(part, candidates[int(np.argmax(held))])
            else:
                taken = [o for o in later.options(whole.output, source) if o[0] == path.choices.get(later.name)]
                if not taken:
                    return False
                whole = whole.then(later, taken[0][1], choice=taken[0][0])
            if later.name == ISOLATE_STAGE.name:  # skipped: the marks are the picture as it came
                return _is_fragment(_marks_mask(path), _marks_mask(whole))
    except NoDigit:
        return False
    return False


def _grain_adds_marks(path: Hypothesis, smoothed: np.ndarray) -> bool:
    """Whether the ink of the grain-smoothed picture ``smoothed`` that touches the path's marks adds marks to them
    (``_adds_marks``): thresholded as the rule thresholds, at ``GRAIN_CHECK_SIDE``. The fallbacks' weighing then reads
    it through every stage."""
    marks = _marks(path)
    if marks is None:
        return False
    try:
        ink = ps.threshold_ink(ps.downscaled(smoothed, GRAIN_CHECK_SIDE))
    except NoDigit:
        return False
    count, labels = cv2.connectedComponents((ink > 0).view(np.uint8), connectivity=8)
    touched = np.zeros(count, bool)
    touched[labels[ps.downscaled(marks, GRAIN_CHECK_SIDE) > 0]] = True
    touched[0] = False
    whole = touched[labels].view(np.uint8) * np.uint8(255)
    part = _marks_mask(path)  # resized from the marks' own size: the whole's size could round a pixel apart
    return _adds_marks(part, cv2.resize(whole, part.shape[::-1], interpolation=cv2.INTER_AREA) > 0)


def _decisive(weighed, left_out_log_prior: float, rules_path_weighed: bool) -> bool:
    """Whether the best of the readings weighed wins against every reading left out, and would be chosen by the same
    rules had they been weighed: its total (log scores plus log prior) is above the best log prior left out, and
    what is judged after the choice does not depend on what was left out. That is the fallbacks, after a first
    weighing (judged on every reading's verifier score), and a "no digit" from the rules' own path (the first
    path, which the readings weighed include where they hold one of prior 1, ``rules_path_weighed``): neither is
    judged where the verifier is sure of the best reading. A best reading the verifier refuses is not decisive: a
    reading left out that it accepts would be the answer."""
    best, _, scores, total, _ = weighed
    sure = scores[best] >= max(FALLBACK_BELOW, OVERTURN_NO_DIGIT_BELOW)
    refused = scores[best] < NOT_A_DIGIT_BELOW  # a photo's floor: only a photo's readings are left out
    return total[best] > left_out_log_prior and (sure or (rules_path_weighed and not refused))


def _finished(paths: list[Hypothesis]) -> tuple[list[Hypothesis], list[np.ndarray]]:
    """The paths that reached a final image with ink in it, and those images as the models see them."""
    views = [(p, as_model_input(p.output)) for p in paths if p.reason is None]
    kept = [(p, v) for p, v in views if np.any(v > 0.05)]
    return [p for p, _ in kept], [v for _, v in kept]


def recognize(
    image,
    pipeline: str = DEFAULT_PIPELINE,
    model: str = DEFAULT_MODEL,
    skip=(),
    classifier=None,
    verifier=None,
    source: str = "auto",
    every_reading: bool = False,
) -> Recognition:
    """Run a pipeline on one image, weigh its alternatives, and classify every stage of the chosen path.

    ``source`` is "drawing" (every stroke is the digit: the sketchpad), "photo", or "auto" (a
    flat canvas or transparency is tried first with every stroke kept, then as a photo).
    ``every_reading`` carries every alternative of a photo to the end, even where a reading already
    won against all of them (same answer, more time, every rejected reading listed).
    """
    stages = get_pipeline(pipeline)
    unknown = set(skip) - {s.name for s in stages}
    if unknown:
        raise DigitlabError(f"no stage named {', '.join(sorted(unknown))} in the {pipeline} pipeline")
    if source not in ("auto", "drawing", "photo"):
        raise DigitlabError(f"unknown source {source!r}; choose auto, drawing or photo")
    rgb = as_image_array(image)
    classifier = classifier or load_classifier(model)
    verifier = _verifier_for(pipeline, verifier)
    if source == "auto":
        source = ps.SOURCE_CANVAS if ps.looks_like_drawing(rgb) else ps.SOURCE_PHOTO

    # Drawn strokes have the pen's width, which the stroke stage rounds to whole pixels: their answer is read
    # across stroke widths. A photo's strokes are measured from its ink; the vote did not help them and costs time.
    vote = source != ps.SOURCE_PHOTO

    memo = {}

    def weigh(fallbacks: bool, branch_at=None, left_out=None):
        paths = explore(rgb, stages, skip, source, alternatives=verifier is not None, fallbacks=fallbacks, memo=memo,
                        branch_at=branch_at, left_out=left_out)
        finished, finals = _finished(paths)
        fragments = None if verifier is None else (lambda scores, digits: _fragment_log_priors(finished, scores, digits))
        # The likeliest path's ladder is read in the same call: the path chosen is most often that one.
        # Its last view is its answer, finals[0], read with the finals.
        likeliest = ladder_views([[img for _, img, _ in finished[0].trail]]) if finished else None
        weighed = (choose(finals, [p.log_prior for p in finished], classifier, verifier, fragments, vote,
                          also=None if likeliest[0] is None else likeliest[0][:-1]) if finished else None)
        return paths, finished, finals, weighed, likeliest

    line_pieces = {}  # id(path) -> (path, whether its marks are a piece of a longer line): each checked once

    def is_line_piece(path: Hypothesis) -> bool:
        if id(path) not in line_pieces:
            line_pieces[id(path)] = (path, _runs_on_as_a_line(path))
        return line_pieces[id(path)][1]

    # A photo's readings are first carried to the end only where they take no choice that overturns a rule, or differ
    # in the decisions a fragment is judged by; where the best of them scores above the prior of every reading left
    # out, none of those could win (no score is above 1), and the answer is the one weighing them all would give.
    shortcut = verifier is not None and source == ps.SOURCE_PHOTO and not every_reading

    def weigh_what_can_win(fallbacks: bool):
        if shortcut:
            left_out = []
            weighing = weigh(fallbacks, frozenset(FRAGMENT_DECISIONS), left_out)
            paths, finished, _, weighed, _ = weighing
            # Where nothing was left out, this was every reading. After the fallbacks nothing more is weighed: only
            # the rules' path's "no digit" is left to judge.
            rules_path_weighed = fallbacks and paths[0].log_prior == 0
            if not left_out or (weighed is not None and _decisive(weighed, max(left_out), rules_path_weighed)
                                and not is_line_piece(finished[weighed[0]])):
                return weighing, left_out
        return weigh(fallbacks), None

    (paths, finished, finals, weighed, likeliest), left_out = weigh_what_can_win(fallbacks=False)
    has_fallbacks = any(s.fallback or s.fallback_options for s in stages)
    # The fallbacks are weighed where no reading convinced the verifier, or where the chosen one may be a fragment.
    if verifier is not None and has_fallbacks and (weighed is None or weighed[2].max() < FALLBACK_BELOW
                                                   or _fallback_completes(finished[weighed[0]], source)):
        (paths, finished, finals, weighed, likeliest), left_out = weigh_what_can_win(fallbacks=True)
    alternatives = []
    reason = None
    final = None
    if finished:
        best, probs, scores, total, likeliest_probs = weighed
        # A best reading the verifier refuses gives way to those it takes for a digit (a tiny 1 beside a hard shadow:
        # the likeliest reading, shadow-following lighting, was refused at 12%; another was a 1 at 93%).
        refuse_below = NOT_A_DIGIT_BELOW if source == ps.SOURCE_PHOTO else NOT_A_DIGIT_BELOW_DRAWN
        order = np.argsort(-total, kind="stable")
        if verifier is not None and scores[order[0]] < refuse_below:
            order = order[np.argsort(scores[order] < GIVE_WAY_TO, kind="stable")]
            best = int(order[0])
        # On a photo, the chosen reading's marks must not be a piece of a longer line (a grid, ruling, a shadow's
        # edge), which both models take for a 1: the next readings are tried instead (the digit may be another mark).
        pieces = set()
        if verifier is not None and source == ps.SOURCE_PHOTO:
            for k in order[:LINE_PIECE_CHECKS]:
                if not is_line_piece(finished[k]):
                    best = int(k)
                    break
                pieces.add(int(k))
        line_piece = best in pieces
        # ... and must stand above their paper as ink does (checked for the chosen alone: choosing the best reading
        # that is ink instead read more empty pages as digits, tuning seeds 6 of 150 -> 10).
        above = _ink_above_paper(finished[best]) if verifier is not None and source == ps.SOURCE_PHOTO else None
        faint = above if above is not None and above < seg.INK_ABOVE_PAPER and not line_piece else None
        chosen, final = finished[best], finals[best]
        for k, p in enumerate(finished):
            alternatives.append(Alternative(p.label, int(probs[k].argmax()), float(probs[k].max()), float(scores[k]),
                                            chosen=k == best, log_prior=p.log_prior, overturned=p.overturned,
                                            faint=faint if k == best else None, line_piece=k in pieces))
        alternatives = [alternatives[k] for k in order]
        if verifier is not None and scores[best] < refuse_below:
            reason = (f"nothing here looks like a digit: the best candidate ({chosen.label}) "
                      f"is a digit by the verifier's judgement at only {scores[best]:.0%}")
        elif verifier is not None and paths[0].reason is not None and scores[best] < OVERTURN_NO_DIGIT_BELOW:
            # Among dozens of readings of noise, one can look like a digit by chance.
            reason = (f"{paths[0].reason} (the best other reading, {chosen.label}, is a digit by the verifier's "
                      f"judgement at only {scores[best]:.0%})")
        elif faint is not None:
            reason = (f"nothing here looks like ink: the best candidate ({chosen.label}) stands only {faint:.0f} "
                      "grey levels above the paper around it (paper grain, or a shadow's soft edge)")
        elif line_piece:
            reason = (f"nothing here looks like a written digit: the best candidate ({chosen.label}) is a piece of a "
                      "longer straight line that runs on beyond it (ruling, a grid, a shadow's or a table's edge)")
    else:
        chosen = paths[0]
        reason = chosen.reason or "nothing left after preprocessing"
    alternatives += [Alternative(p.label, None, 0.0, 0.0, reason=p.reason) for p in paths if p.reason is not None]
    if finished and best == 0 and likeliest[0] is not None:  # read already, with the alternatives
        _, indices, _ = likeliest
        # its answer, as choose read it (across stroke widths where it votes)
        ladder = per_stage(indices, np.concatenate([likeliest_probs, probs[:1]]))[0]
    else:
        ladder = classify_ladders([[img for _, img, _ in chosen.trail]], classifier, vote)[0]
    results = [StageResult(s, img, skipped, prob, chosen.choices.get(s.name))
               for (s, img, skipped), prob in zip(chosen.trail, ladder)]
    final_probs = ladder[-1] if reason is None else None
    return Recognition(
        pipeline=pipeline,
        model=classifier.name,
        stages=results,
        model_input=final if reason is None else None,
        probabilities=final_probs,
        reason=reason,
        skipped=frozenset(skip),
        alternatives=alternatives,
        source=source,
        left_out=LeftOut(float(np.exp(max(left_out))), float(np.exp(total[best]))) if left_out else None,
    )


def preprocess(image, pipeline: str = DEFAULT_PIPELINE, skip=()) -> np.ndarray:
    """Only the rules' preprocessing: the 28x28 float32 0..1 model input, or ``NoDigit``."""
    trail, reason = run_stages(as_image_array(image), get_pipeline(pipeline), skip)
    if reason is not None:
        raise NoDigit(reason)
    return as_model_input(trail[-1][1])

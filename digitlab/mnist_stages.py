"""The MNIST recipe as stages: one digit's ink in, a 28x28 MNIST-like image out.

MNIST digits were size-normalised to fit a 20x20 box (aspect ratio kept, anti-aliased) and
centred by centre of mass in a 28x28 frame; these stages do the same to any digit, and make
its strokes as thick as MNIST's.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist

from .errors import NoDigit
from .segmentation import bounding_box

# The MNIST recipe: digits fit a 20x20 box inside a 28x28 frame, centred by mass.
BOX_SIDE = 20
FRAME_SIDE = 28
# MNIST strokes at 28x28 are ~2.5 px wide in a ~20 px tall digit: about 1/8 of the height.
TARGET_STROKE_RATIO = 0.12
# Strokes this much wider than MNIST's are thinned: its own digits' strokes vary about that much.
THIN_ABOVE = 1.6
# A bold stroke under THIN_ABOVE can still fill a narrow digit's loop: thinning it from here is tried too.
TRY_THIN_ABOVE = 1.15
# Strokes are measured and reshaped on the digit resampled to this long side: a small digit's
# 1-px strokes and loops survive the morphology, a big one costs no more than a small one.
STROKE_WORK_SIDE = 64
# Thinning must leave this share of the ink, or it has eaten whole parts of the digit.
KEEP_AFTER_THINNING = 0.25
# A pen lifted mid-stroke, or a stroke half rubbed out, leaves a gap about as wide as the pen or twice that;
# pieces at most this many MNIST stroke widths apart are tried joined (a 5's flag, a 7's bar, a broken 1).
BRIDGE_GAPS_UP_TO = 2.5
# ... and only where the ink came in a few pieces: a digit's strokes, each broken once at most. Specks of stretched
# paper grain come in dozens, and joined they can make a digit-like shape of nothing.
BRIDGE_AT_MOST_PIECES = 4

_SQUARE = np.ones((3, 3), np.uint8)


def crop_to_ink(image: np.ndarray) -> np.ndarray:
    """Cut away empty rows and columns around the ink."""
    box = bounding_box(image)
    if box is None:
        raise NoDigit("nothing left to crop: the image is empty after thresholding")
    top, bottom, left, right = box
    return image[top:bottom, left:right].copy()


def stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width in pixels: twice the mean distance to the background along the strokes' centres."""
    # Pad with background: a mask that fills its frame would otherwise have no distance to measure.
    padded = cv2.copyMakeBorder(mask.astype(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, 3)[1:-1, 1:-1]
    ridge = dist >= cv2.dilate(dist, _SQUARE)  # a 3x3 maximum filter, ~10x faster than scipy's on floats
    values = dist[ridge & (mask > 0)]
    return 2.0 * float(values.mean()) if values.size else 0.0


def fill_small_holes(mask: np.ndarray, max_area: float) -> np.ndarray:
    """Fill the enclosed background regions of a 0/1 mask smaller than ``max_area`` pixels."""
    # Background regions (4-connected, as scipy's binary_fill_holes) that do not touch the frame
    # are holes. One labelling pass: 2-4x faster than binary_fill_holes' iterative dilation.
    h, w = mask.shape
    _, labels, stats, _ = cv2.connectedComponentsWithStats((mask == 0).astype(np.uint8), connectivity=4)
    x, y, bw, bh, area = stats.T
    small = (area < max_area) & (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)
    small[0] = False  # label 0 is the ink itself
    return (mask | small[labels]).astype(np.uint8)


def _resampled_mask(image: np.ndarray, side: int) -> np.ndarray:
    """The ink as a 0/1 mask whose long side is ``side``: area-averaged down (any ink counts, so thin
    strokes stay), or smoothly enlarged and cut at a third of the ink's level (loops stay open)."""
    h, w = image.shape
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if scale < 1:
        return (cv2.resize(image, size, interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
    if scale == 1:
        return (image > 0).astype(np.uint8)
    big = cv2.resize(image.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    return (big > 0.33 * float(image.max())).astype(np.uint8)


def normalize_stroke(image: np.ndarray, close_small_gaps: bool = True, thin_from: float = THIN_ABOVE,
                     thin_what_survives: bool = False) -> np.ndarray:
    """Thicken thin pen lines and thin thick brush strokes to MNIST's stroke-to-height ratio.

    Measures the stroke width with a distance transform, then dilates or erodes the ink
    with a round kernel; the output is solid ink, as MNIST's strokes are, at ``STROKE_WORK_SIDE``.
    ``close_small_gaps`` first fills pinholes and closes gaps under a third of the target
    width (pencil, worn ballpoint); it also closes a small loop drawn with a thick pen.
    A stroke that thinning to the target would erase is left as it is, or with ``thin_what_survives``,
    thinned as far as it survives.
    """
    if not np.any(image):
        raise NoDigit("nothing left to normalise")
    mask = _resampled_mask(image, STROKE_WORK_SIDE)
    height = max(mask.shape)
    target = TARGET_STROKE_RATIO * height
    if close_small_gaps:
        # Pencil and worn ballpoint leave speckled strokes: fill their pinholes first, or the
        # distance transform measures the holes and the stroke gets thickened into a blob.
        # Holes much smaller than a stroke are pinholes; a digit's loops are bigger.
        mask = fill_small_holes(mask, max_area=(0.5 * target) ** 2)
        k = max(3, int(target / 3) | 1)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    width = stroke_width(mask)
    pad = int(np.ceil(target)) + 2
    mask = cv2.copyMakeBorder(mask, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    if width < 0.7 * target:
        r = max(1, int(round((target - width) / 2)))
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    elif width > thin_from * target:
        # Only erode where that keeps the digit's parts: a thick stroke must not vanish.
        for r in range(max(1, int(round((width - target) / 2))), 0, -1):
            eroded = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
            if eroded.sum() > KEEP_AFTER_THINNING * mask.sum():
                mask = eroded
                break
            if not thin_what_survives:
                break
    return crop_to_ink(mask * 255)


def _loops(image: np.ndarray) -> int:
    """How many holes (loops) the ink encloses."""
    mask = (image > 0).astype(np.uint8)
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return 0 if hierarchy is None else int(np.count_nonzero(hierarchy[0][:, 3] >= 0))


def stroke_options(image: np.ndarray, source: str = "photo") -> list[tuple[str, np.ndarray]]:
    """Normalised as the rule does; where closing small gaps closed a loop, with the loops kept open; where the ink
    came in a few pieces with narrow gaps between, with the pieces joined.

    A 6 or 9 drawn small with a thick pen has a loop as small as a pinhole. A 7 drawn with the pen lifted between
    its bar and its stem is two pieces.
    """
    rule = normalize_stroke(image)
    options = [("gaps closed", rule)]
    if _loops(rule) < _loops(image):
        options.append(("loops kept open", normalize_stroke(image, close_small_gaps=False)))
    bridged = bridge_gaps(rule)
    if bridged is not None and cv2.connectedComponents((image > 0).astype(np.uint8))[0] - 1 <= BRIDGE_AT_MOST_PIECES:
        options.append(("pieces joined across gaps", bridged))
    return options


def bridge_gaps(image: np.ndarray, up_to: float = BRIDGE_GAPS_UP_TO) -> np.ndarray | None:
    """Separate pieces of a normalised digit joined by a stroke of its own width across each gap up to
    ``up_to`` stroke widths, nearest first (a minimum spanning tree); None where no gap is that narrow.

    A digit drawn in pieces that do not touch looks like a fragment to the verifier, joined it looks written.
    """
    mask = (image > 0).astype(np.uint8)
    n, labels = cv2.connectedComponents(mask, connectivity=8)
    if n <= 2:
        return None
    width = TARGET_STROKE_RATIO * max(mask.shape)
    outlines = [np.vstack([c[:, 0] for c in cv2.findContours((labels == i).astype(np.uint8), cv2.RETR_EXTERNAL,
                                                               cv2.CHAIN_APPROX_NONE)[0]]) for i in range(1, n)]
    gaps = np.zeros((n - 1, n - 1))  # the narrowest gap between two pieces; 0: too wide to join
    ends = {}
    for i in range(n - 1):
        for j in range(i + 1, n - 1):
            d = cdist(outlines[i], outlines[j])
            a, b = np.unravel_index(np.argmin(d), d.shape)
            if d[a, b] <= up_to * width:  # separate 8-connected pieces are at least 2 px apart, never 0
                gaps[i, j], ends[i, j] = d[a, b], (outlines[i][a], outlines[j][b])
    if not ends:
        return None
    bridged = mask * 255
    for i, j in zip(*minimum_spanning_tree(gaps).nonzero()):
        p, q = ends[min(i, j), max(i, j)]
        cv2.line(bridged, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), 255, max(1, round(width)))
    return bridged


def thinner_stroke_options(image: np.ndarray, source: str = "photo") -> list[tuple[str, np.ndarray]]:
    """Bold strokes thinned to MNIST's width where the rule leaves them (under ``THIN_ABOVE``), and thinned as far
    as they survive where thinning to MNIST's width would erase them; each only if it changes the result.

    A narrow digit drawn with a bold pen can have its loop filled all the same: a 6 becomes a blob. A 1
    drawn with a brush a third as wide as it is tall is erased by thinning to MNIST's width, and left a blob.
    """
    options, seen = [], [normalize_stroke(image)]
    for label, thinned in (("bold strokes thinned", normalize_stroke(image, thin_from=TRY_THIN_ABOVE)),
                           ("bold strokes thinned as far as they survive",
                            normalize_stroke(image, thin_from=TRY_THIN_ABOVE, thin_what_survives=True))):
        if not any(thinned.shape == other.shape and np.array_equal(thinned, other) for other in seen):
            options.append((label, thinned))
            seen.append(thinned)
    return options


def fit_box(image: np.ndarray, side: int = BOX_SIDE) -> np.ndarray:
    """Resize so the longer side is ``side`` px, keeping the aspect ratio, with area averaging (anti-aliased)."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation)



def pad_frame(image: np.ndarray, side: int = FRAME_SIDE) -> np.ndarray:
    """Pad evenly with black to a ``side`` x ``side`` frame (larger inputs are shrunk first)."""
    if max(image.shape[:2]) > side:
        image = fit_box(image, side)
    h, w = image.shape[:2]
    top, left = (side - h) // 2, (side - w) // 2
    return cv2.copyMakeBorder(image, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT, value=0)


def center_by_mass(image: np.ndarray) -> np.ndarray:
    """Shift the image so its centre of mass sits at the frame's centre, as MNIST's digits do."""
    if not np.any(image):
        return image.copy()
    cy, cx = ndimage.center_of_mass(image.astype(np.float64))
    h, w = image.shape
    dy, dx = round(h / 2 - cy), round(w / 2 - cx)
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, shift, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)



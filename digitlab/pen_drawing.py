"""Digits redrawn as pen strokes: an MNIST digit's centre line traced with a round pen.

MNIST digits are scanned pen strokes, thresholded and blurred; a canvas drawing or a fine
pen on paper is a line of one width. The photo simulator draws its digits this way, and the
verifier learns from digits drawn this way, so a uniform stroke is no clue to "not a digit".
"""

from __future__ import annotations

import cv2
import numpy as np

# Pens wider than this radius (px, at pen_mask's 4x drawing scale) are drawn as a disc by distance transform:
# dilating with a disc kernel costs time in proportion to its radius (12 s for a close-up's marker).
DISC_BY_DISTANCE_ABOVE = 30


def skeleton(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide centre line of the strokes (scikit-image's thinning keeps it connected)."""
    from skimage.morphology import skeletonize  # a dev dependency: only the simulator and training need it

    return skeletonize(mask > 0).astype(np.uint8)


def prune_spurs(skel: np.ndarray, length: int) -> np.ndarray:
    """Remove side branches shorter than ``length`` px (the classic thin-then-regrow pruning).

    Thinning a thick stroke leaves short spurs at its bumps; a pen tracing the digit would
    not draw them. Ends are peeled off ``length`` times, then the surviving branches regrow
    along the original skeleton, so only the spurs stay gone.
    """
    neighbours = np.ones((3, 3), np.float32)
    neighbours[1, 1] = 0

    def ends(s):
        return (s > 0) & (cv2.filter2D(s, -1, neighbours, borderType=cv2.BORDER_CONSTANT) <= 1)

    pruned = skel.copy()
    for _ in range(length):
        pruned[ends(pruned)] = 0
    if not pruned.any():  # the whole digit is one short stroke: keep it
        return skel
    grown = ends(pruned).astype(np.uint8)
    for _ in range(length):
        grown = cv2.dilate(grown, np.ones((3, 3), np.uint8)) & skel
    return pruned | grown


def pen_mask(digit28: np.ndarray, height: int, pen: float, rng: np.random.Generator) -> np.ndarray:
    """The digit redrawn at ``height`` px with a round pen ``pen`` px wide; float mask 0..1.

    The pen follows the digit's centre line; where the writer filled a loop (MNIST has many
    filled 6s, 8s and 9s), the fill is kept, or the loop would vanish from the drawing.
    """
    box = digit28 > 0
    rows, cols = np.flatnonzero(box.any(1)), np.flatnonzero(box.any(0))
    crop = digit28[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float32) / 255
    big = 8
    up = cv2.resize(crop, (crop.shape[1] * big, crop.shape[0] * big), interpolation=cv2.INTER_CUBIC)
    shape = (up > 0.45 * up.max()).astype(np.uint8)  # a faint digit is a light pen, not a broken one
    skel = skeleton(shape)
    depth = cv2.distanceTransform(shape, cv2.DIST_L2, 3)
    half_width = float(np.median(depth[skel > 0])) if skel.any() else 1.0
    skel = prune_spurs(skel, int(round(1.5 * half_width)))
    # Filled areas: what survives an opening much wider than the digit's strokes.
    r = int(round(2.0 * half_width))
    filled = cv2.morphologyEx(shape, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1,) * 2))
    scale = height / up.shape[0]
    w = max(1, int(round(up.shape[1] * scale)))
    # Draw the stroke at 4x the target size, then area-downscale: smooth, anti-aliased edges.
    fine = 4
    skel_big = cv2.resize(skel * 255, (w * fine, height * fine), interpolation=cv2.INTER_AREA) > 0
    radius = max(1, int(round(pen * fine / 2)))
    if radius > DISC_BY_DISTANCE_ABOVE:
        away = cv2.distanceTransform(1 - skel_big.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        stroke = (away <= radius + 0.5).astype(np.uint8)
    else:
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
        stroke = cv2.dilate(skel_big.astype(np.uint8), disc)
    stroke |= cv2.resize(filled, (w * fine, height * fine), interpolation=cv2.INTER_NEAREST)
    return cv2.resize(stroke.astype(np.float32), (w, height), interpolation=cv2.INTER_AREA)

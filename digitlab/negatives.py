"""Generated non-digits: what preprocessing leaves when it picks the wrong thing.

The verifier learns "not a digit" from these. Each generator draws, at a photo's scale, a
kind of mark that the robust pipeline can end up with instead of a digit (a blob from the
wrong polarity, the paper inside a loop, a ruled line, a table or shadow edge, a fragment of
a digit, two digits at once, a digit fused with a cell border, texture, an empty frame); the
mark then goes through the same digit stages as a real digit, so the verifier sees exactly
what the classifier would see.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

# Marks are drawn on a canvas about this many pixels high: a digit as a photo's working size shows it.
CANVAS_SIDE = 112
# A bar closer to vertical than this (degrees) may be a "1" (MNIST's lean up to ~45 degrees), not a non-digit.
MIN_BAR_TILT = 50
# Pen widths of drawn digits, as fractions of the digit's height: a fine pen to a fat brush.
PEN_WIDTHS = (0.04, 0.16)


def upscaled_mask(digit28: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit as a solid 0/255 mask at ``CANVAS_SIDE`` scale, thresholded at ``level`` of its peak."""
    big = cv2.resize(digit28.astype(np.float32), (CANVAS_SIDE, CANVAS_SIDE), interpolation=cv2.INTER_CUBIC)
    mask = (big > level * big.max()).astype(np.uint8)
    change = int(rng.integers(-1, 3))  # thinner, as drawn, or bolder pens
    if change:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(change) + 1,) * 2)
        mask = cv2.dilate(mask, kernel) if change > 0 else cv2.erode(mask, kernel)
        if not mask.any():
            mask = (big > level * big.max()).astype(np.uint8)
    return mask * 255


def _canvas(rng) -> tuple[np.ndarray, int, int]:
    h = int(rng.integers(60, 160))
    w = int(rng.integers(60, 160))
    return np.zeros((h, w), np.uint8), h, w


def blob(rng, digits):
    """A solid ellipse or polygon: the wrong polarity's paper, a thumb, a stain."""
    canvas, h, w = _canvas(rng)
    if rng.random() < 0.5:
        cv2.ellipse(canvas, (w // 2, h // 2), (int(w * rng.uniform(0.2, 0.5)), int(h * rng.uniform(0.2, 0.5))),
                    float(rng.uniform(0, 180)), 0, 360, 255, -1)
    else:
        pts = rng.uniform([0, 0], [w, h], (int(rng.integers(4, 9)), 2)).astype(np.int32)
        cv2.fillConvexPoly(canvas, cv2.convexHull(pts), 255)
    return canvas


def wedge(rng, digits):
    """A filled triangle or trapezoid: a shadow's corner, a fold, a piece of table."""
    canvas, h, w = _canvas(rng)
    pts = rng.uniform([0, 0], [w, h], (int(rng.integers(3, 5)), 2)).astype(np.int32)
    cv2.fillPoly(canvas, [pts], 255)
    return canvas


def bar(rng, digits):
    """A straight stroke well off vertical (a ruled line, a 7's flag alone), or a short fat one."""
    canvas, h, w = _canvas(rng)
    side = max(h, w)
    canvas = np.zeros((side, side), np.uint8)
    tilt = np.deg2rad(rng.uniform(MIN_BAR_TILT, 90) * rng.choice([-1, 1]))
    half = side * rng.uniform(0.3, 0.5)
    dx, dy = half * np.sin(tilt), half * np.cos(tilt)
    c = side / 2
    thickness = max(2, int(side * rng.uniform(0.03, 0.25)))
    cv2.line(canvas, (int(c - dx), int(c - dy)), (int(c + dx), int(c + dy)), 255, thickness)
    return canvas


def border_piece(rng, digits):
    """Part of a cell or box border: an L, a U, or a frame corner."""
    canvas, h, w = _canvas(rng)
    t = max(2, int(min(h, w) * rng.uniform(0.04, 0.12)))
    sides = rng.choice(4, int(rng.integers(2, 4)), replace=False)
    for s in sides:
        if s == 0:
            cv2.line(canvas, (0, t // 2), (w, t // 2), 255, t)
        elif s == 1:
            cv2.line(canvas, (w - 1 - t // 2, 0), (w - 1 - t // 2, h), 255, t)
        elif s == 2:
            cv2.line(canvas, (0, h - 1 - t // 2), (w, h - 1 - t // 2), 255, t)
        else:
            cv2.line(canvas, (t // 2, 0), (t // 2, h), 255, t)
    return canvas


def loop_interior(rng, digits):
    """The paper inside a digit's loops, which the wrong polarity turns into ink."""
    for _ in range(10):
        mask = upscaled_mask(digits[int(rng.integers(len(digits)))], rng.uniform(0.3, 0.6), rng) > 0
        holes = ndimage.binary_fill_holes(mask) & ~mask
        if holes.sum() > 40:
            return holes.astype(np.uint8) * 255
    return blob(rng, digits)


def inverted_digit(rng, digits):
    """A digit's surroundings as ink: a close-up read with the wrong polarity."""
    mask = upscaled_mask(digits[int(rng.integers(len(digits)))], rng.uniform(0.3, 0.6), rng)
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    m = int(rng.integers(0, 20))
    top, bottom = max(0, rows[0] - m), min(mask.shape[0], rows[-1] + m + 1)
    left, right = max(0, cols[0] - m), min(mask.shape[1], cols[-1] + m + 1)
    return 255 - mask[top:bottom, left:right]


def fragment(rng, digits):
    """A piece of a digit cut off by a straight line: a stroke lost to thresholding or a border."""
    mask = upscaled_mask(digits[int(rng.integers(len(digits)))], rng.uniform(0.3, 0.6), rng)
    yy, xx = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
    ink = mask > 0
    for _ in range(10):
        angle = rng.uniform(0, 2 * np.pi)
        proj = xx * np.cos(angle) + yy * np.sin(angle)
        cut = np.quantile(proj[ink], rng.uniform(0.15, 0.35))
        piece = ink & (proj < cut)
        if piece.sum() > 30:
            return piece.astype(np.uint8) * 255
    return mask


def pair(rng, digits):
    """Two or three digits taken together: touching neighbours in a number."""
    parts = [upscaled_mask(digits[int(rng.integers(len(digits)))], 0.45, rng) for _ in range(int(rng.integers(2, 4)))]
    parts = [p[:, np.flatnonzero(p.any(0))[0]:np.flatnonzero(p.any(0))[-1] + 1] for p in parts]
    gap = int(rng.integers(-8, 12))
    out = parts[0]
    for p in parts[1:]:
        if gap >= 0:
            out = np.concatenate([out, np.zeros((out.shape[0], gap), np.uint8), p], axis=1)
        else:
            overlap = min(-gap, out.shape[1] - 1, p.shape[1] - 1)
            merged = np.concatenate([out, np.zeros((out.shape[0], p.shape[1] - overlap), np.uint8)], axis=1)
            merged[:, -p.shape[1]:] = np.maximum(merged[:, -p.shape[1]:], p)
            out = merged
    return out


def digit_with_line(rng, digits):
    """A digit fused with a long ruled line or cell border running through or beside it."""
    mask = upscaled_mask(digits[int(rng.integers(len(digits)))], 0.45, rng)
    side = CANVAS_SIDE
    length = int(side * rng.uniform(1.6, 3.0))
    canvas = np.zeros((length, length), np.uint8) if rng.random() < 0.5 else np.zeros((side, length), np.uint8)
    h, w = canvas.shape
    y0, x0 = (h - side) // 2, (w - side) // 2
    canvas[y0:y0 + side, x0:x0 + side] = mask
    t = max(2, int(rng.uniform(0.03, 0.08) * side))
    rows = np.flatnonzero(mask.any(1))
    if h > side and rng.random() < 0.5:  # a vertical border beside the digit
        x = x0 + int(rng.choice([np.flatnonzero(mask.any(0))[0], np.flatnonzero(mask.any(0))[-1]]))
        cv2.line(canvas, (x, 0), (x, h), 255, t)
    else:
        y = y0 + int(rng.choice([rows[0], rows[-1], (rows[0] + rows[-1]) // 2]))
        cv2.line(canvas, (0, y), (w, y), 255, t)
    return canvas


def digit_in_box(rng, digits):
    """A digit with the cell around it: the border taken as part of the digit."""
    mask = upscaled_mask(digits[int(rng.integers(len(digits)))], 0.45, rng)
    m = int(rng.integers(0, 12))
    canvas = cv2.copyMakeBorder(mask, m, m, m, m, cv2.BORDER_CONSTANT, value=0)
    t = max(2, int(rng.uniform(0.03, 0.08) * canvas.shape[0]))
    cv2.rectangle(canvas, (0, 0), (canvas.shape[1] - 1, canvas.shape[0] - 1), 255, t)
    return canvas


def texture(rng, digits):
    """Paper grain, hatching or a grid that survived thresholding."""
    canvas, h, w = _canvas(rng)
    kind = rng.integers(3)
    if kind == 0:
        noise = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), rng.uniform(0.8, 3))
        return ((noise > np.quantile(noise, rng.uniform(0.5, 0.8))) * 255).astype(np.uint8)
    step = int(rng.integers(8, 30))
    t = max(1, int(rng.integers(1, 4)))
    for k in range(0, max(h, w) * 2, step):
        if kind == 1:  # hatching
            cv2.line(canvas, (k, 0), (k - h, h), 255, t)
        else:  # a grid
            cv2.line(canvas, (k, 0), (k, h), 255, t)
            cv2.line(canvas, (0, k), (w, k), 255, t)
    return canvas


def specks(rng, digits):
    """A few scattered dots: noise, or nothing at all."""
    canvas, h, w = _canvas(rng)
    for _ in range(int(rng.integers(1, 6))):
        cv2.circle(canvas, (int(rng.integers(w)), int(rng.integers(h))), int(rng.integers(1, 6)), 255, -1)
    return canvas


def serif_one(digit28: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1 as many people write it (MNIST has few): a flag at the top and a short base under the stem."""
    mask = upscaled_mask(digit28, rng.uniform(0.35, 0.55), rng)
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    h = rows[-1] - rows[0]
    t = max(2, int(0.09 * h * rng.uniform(0.7, 1.3)))
    stem_bottom = int(np.mean(np.flatnonzero(mask[max(rows[0], rows[-1] - 2):rows[-1] + 1].any(axis=0))))
    half = int(h * rng.uniform(0.2, 0.4))
    canvas = cv2.copyMakeBorder(mask, 0, t, half, half, cv2.BORDER_CONSTANT, value=0)
    if rng.random() < 0.8:
        y = rows[-1] + int(rng.integers(0, max(1, t)))
        cv2.line(canvas, (stem_bottom, y), (stem_bottom + 2 * half, y), 255, t)
    top = int(np.mean(np.flatnonzero(mask[rows[0]:rows[0] + 2].any(axis=0)))) + half
    cv2.line(canvas, (top, rows[0]), (top - int(h * rng.uniform(0.2, 0.35)), rows[0] + int(h * rng.uniform(0.15, 0.3))),
             255, t)
    return canvas


def pen_drawn(digit28: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A digit as a canvas or a felt pen draws it: its centre line traced with a round pen, sometimes soft-edged."""
    from .pen_drawing import pen_mask

    height = int(CANVAS_SIDE * rng.uniform(0.5, 0.9))
    pen = max(1.5, height * rng.uniform(PEN_WIDTHS[0], PEN_WIDTHS[1]))
    mask = pen_mask(digit28, height, pen, rng)
    if rng.random() < 0.25:  # an airbrush or a blurred drawing: the edge is where the threshold falls
        mask = cv2.GaussianBlur(mask, (0, 0), pen * rng.uniform(0.3, 0.7))
        mask = mask / max(float(mask.max()), 1e-6)
    return cv2.copyMakeBorder((mask > rng.uniform(0.3, 0.6)).astype(np.uint8) * 255, 8, 8, 8, 8, cv2.BORDER_CONSTANT)


def looks_like_a_one(mask: np.ndarray) -> bool:
    """A thin, nearly upright mark: a "1" whatever it was drawn as, so never a negative."""
    points = cv2.findNonZero((mask > 0).astype(np.uint8))
    if points is None:
        return False
    (_, _), (a, b), angle = cv2.minAreaRect(points)
    length, width = max(a, b), max(1.0, min(a, b))
    # minAreaRect's angle is of the side of length ``a``; the long side's tilt from vertical:
    tilt = abs(angle) if a < b else abs(90 - abs(angle))
    return length / width >= 3.0 and min(tilt, 180 - tilt) < MIN_BAR_TILT


GENERATORS = (blob, wedge, bar, border_piece, loop_interior, inverted_digit, fragment, pair,
              digit_with_line, digit_in_box, texture, specks)

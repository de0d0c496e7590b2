"""The stage library: small pure functions from image to image.

Conventions: a stage takes a NumPy image and returns a new one. Until ``grayscale`` the
image is RGB(A) uint8; after it, uint8 grey. From ``polarity`` on, ink is bright on a
dark background, as in MNIST. A stage that finds nothing to work on raises ``NoDigit``.
Which stages run, in which order, is decided in ``pipeline.py``, not here.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from .errors import DigitlabError

# The MNIST recipe: digits fit a 20x20 box inside a 28x28 frame, centred by mass.
BOX_SIDE = 20
FRAME_SIDE = 28
# Photos are analysed at this long side: enough for a small digit in a 12 MP frame, cheap to process.
WORKING_SIDE = 1280
# Ink must differ from the paper by at least this fraction of full contrast to count.
MIN_INK_CONTRAST = 0.16
# Paper whose brightness varies less than this fraction of full contrast counts as evenly lit.
EVEN_PAPER_SPREAD = 0.06
# MNIST strokes at 28x28 are ~2.5 px wide in a ~20 px tall digit: about 1/8 of the height.
TARGET_STROKE_RATIO = 0.12


class NoDigit(DigitlabError):
    """The image holds no digit; the message says why (blank, noise, nothing digit-like)."""


# --- shared helpers ----------------------------------------------------------------------------


def to_gray(image: np.ndarray) -> np.ndarray:
    """Plain luminance grey, for images that are still colour."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)


def bounding_box(image: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the non-zero pixels, bottom/right exclusive; None if empty."""
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def components(mask: np.ndarray):
    """``cv2.connectedComponentsWithStats`` (8-connected), run only on the box around the ink.

    Its statistics pass costs ~1 ms per 600x600 image however little ink there is; a sketch's
    ink fills a small part of the canvas. Labels and stats come back in full-image coordinates.
    """
    x, y, bw, bh = cv2.boundingRect(mask)
    labels = np.zeros(mask.shape, np.int32)
    if bw == 0:
        return 1, labels, np.array([[0, 0, mask.shape[1], mask.shape[0], mask.size]], np.int32)
    n, labels[y:y + bh, x:x + bw], stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(mask[y:y + bh, x:x + bw]), connectivity=8)
    stats[1:, 0] += x
    stats[1:, 1] += y
    return n, labels, stats


def _require_ink(image: np.ndarray, reason: str) -> None:
    if not np.any(image):
        raise NoDigit(reason)


# --- photo stages (whole image) ------------------------------------------------------------------


def flatten_transparency(image: np.ndarray) -> np.ndarray:
    """Composite RGBA onto a background that contrasts with the visible ink.

    A drawing often arrives as ink on a fully transparent canvas: composited on white,
    black ink stays readable; light ink is composited on black instead.
    """
    if image.ndim != 3 or image.shape[2] != 4:
        return image
    alpha = image[..., 3:4].astype(np.float32) / 255.0
    rgb = image[..., :3].astype(np.float32)
    visible = alpha[..., 0] > 0.5
    if visible.all() or not visible.any():
        return image[..., :3].copy()
    ink_brightness = float(rgb[visible].mean())
    background = 255.0 if ink_brightness < 128 else 0.0
    return (rgb * alpha + background * (1.0 - alpha)).round().astype(np.uint8)


def working_size(image: np.ndarray, side: int = WORKING_SIDE) -> np.ndarray:
    """Shrink large photos to ``side`` pixels on the long side (area averaging keeps thin strokes)."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def ink_grayscale(image: np.ndarray) -> np.ndarray:
    """Grey that keeps coloured ink dark: the darkest of R, G and B at each pixel.

    Luminance makes blue ballpoint and red pen pale (blue is only 11% of luminance); the
    minimum channel keeps any saturated ink as dark as black ink against white paper.
    """
    if image.ndim == 2:
        return image
    r, g, b = cv2.split(np.ascontiguousarray(image[..., :3]))
    return cv2.min(cv2.min(r, g), b)  # ~10x faster than np.min over the strided channel axis


def article_grayscale(image: np.ndarray) -> np.ndarray:
    """Plain luminance grey of the colour channels, as the article does (cv2.imread drops alpha)."""
    return to_gray(image)


def background_is_light(gray: np.ndarray) -> bool:
    """True when the ink is darker than its surroundings.

    Compares each pixel with its neighbourhood's median (which follows shadows and uneven
    light): dark ink on light paper gives strong negative deviations, chalk-like light ink
    strong positive ones. A global median fails when a shadow covers half the page.
    """
    h, w = gray.shape
    scale = min(1.0, 320 / max(h, w))
    small = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    if min(small.shape) < 3:
        return float(np.median(small)) >= 128
    small = cv2.medianBlur(small, 3)  # single-pixel noise must not decide
    k = max(3, int(min(small.shape) * 0.15) | 1)
    deviation = small.astype(np.int16) - cv2.medianBlur(small, k).astype(np.int16)
    darker, lighter = -int(deviation.min()), int(deviation.max())
    if darker == lighter:
        return float(np.median(small)) >= 128
    return darker > lighter


def auto_polarity(gray: np.ndarray) -> np.ndarray:
    """Make ink bright on dark: invert when the background is lighter than the ink."""
    return 255 - gray if background_is_light(gray) else gray.copy()


def invert(gray: np.ndarray) -> np.ndarray:
    """Always invert: dark ink on white paper becomes white on black."""
    return 255 - gray


_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
_SQUARE = np.ones((3, 3), np.uint8)


def _octagon_open(image: np.ndarray, k: int) -> np.ndarray:
    """Grey opening with a ~k-wide octagon: alternate 3x3 cross and square steps.

    The classic decomposition of a disk: OpenCV's elliptical kernel costs O(k) per pixel,
    k/2 tiny 3x3 steps are ~7x faster at k = 57, and an octagon is as round as we need.
    """
    steps = [_CROSS if i % 2 == 0 else _SQUARE for i in range(k // 2)]
    for kernel in steps:
        image = cv2.erode(image, kernel)
    for kernel in reversed(steps):
        image = cv2.dilate(image, kernel)
    return image


def _open_background(small: np.ndarray, k: int, opened: np.ndarray | None = None) -> np.ndarray:
    """The paper without strokes narrower than ``k``, smoothed (a stack blur ~ a Gaussian of sigma k/3, in O(1)).

    Never below the opening itself: blurring alone would pull the estimate down along a sharp
    edge (a dark table beside the page), leaving a bright strip there that looks like a stroke.
    """
    opened = _octagon_open(small, k) if opened is None else opened
    radius = int(round(2.45 * k / 3))  # a stack blur of radius r has sigma ~ r / sqrt(6)
    return cv2.max(opened, cv2.stackBlur(opened, (2 * radius + 1, 2 * radius + 1)))


def even_lighting(ink: np.ndarray) -> np.ndarray:
    """Subtract a smooth background estimate so shadows and uneven light become flat black.

    The background is the image with strokes removed by a grey opening. The opening must be
    wider than a stroke but as narrow as possible, to follow shadow edges; so a first, wide
    opening finds the strokes, their width is measured, and the second opening is ~3 strokes
    wide. Both run on a small copy for speed. Paper that the wide opening finds evenly lit
    only has its level subtracted.
    """
    h, w = ink.shape
    scale = min(1.0, 320 / max(h, w))
    small = cv2.resize(ink, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    k_wide = max(3, int(min(small.shape) * 0.18) | 1)
    opened = _octagon_open(small, k_wide)
    # Percentiles, not the range: a blob of ink (a filled loop) wider than the opening covers a
    # few per cent of the image; a shadow or a gradient covers much more.
    low, high = np.percentile(opened, (2, 90))
    if high - low < EVEN_PAPER_SPREAD * 255:
        # Evenly lit paper (a scan, a drawing): subtract its level only. A narrow opening would
        # take a filled loop or a blob of ink for background and erase it.
        return cv2.subtract(ink, int(np.median(opened)))
    rough = cv2.subtract(small, _open_background(small, k_wide, opened))
    k = k_wide
    if rough.max() > MIN_INK_CONTRAST * 255:
        level, strokes = cv2.threshold(rough, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        width = stroke_width(strokes > 0)
        k = int(np.clip(3 * width + 3, 0.04 * max(small.shape), k_wide)) | 1
    background = cv2.resize(_open_background(small, k), (w, h), interpolation=cv2.INTER_LINEAR)
    # No contrast stretch: absolute contrast is what separates faint noise from real ink.
    return cv2.subtract(ink, background)


def threshold_ink(flat: np.ndarray) -> np.ndarray:
    """Keep the ink: hysteresis between Otsu's level and half the strongest ink; zero the rest.

    Pixels above the high level seed the ink; pixels above the low level join when they touch
    a seed. Noise and texture rarely reach the high level, so they go, while the faint edges
    of real strokes stay. The ink keeps its grey level.
    """
    strongest = float(flat.max())
    if strongest < MIN_INK_CONTRAST * 255:
        raise NoDigit("blank image: nothing stands out from the background")
    otsu, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    low = max(otsu, MIN_INK_CONTRAST * 255)
    strong = float(np.percentile(flat[flat > low], 95)) if np.any(flat > low) else strongest
    high = max(low, 0.5 * strong)
    candidates = (flat > low).astype(np.uint8)
    n, labels = cv2.connectedComponents(candidates, connectivity=8)
    seeded = np.zeros(n, bool)
    seeded[labels[flat > high]] = True
    seeded[0] = False
    out = np.where(seeded[labels], flat, 0).astype(np.uint8)
    _require_ink(out, "blank image: nothing stands out from the background")
    return out


def article_threshold(gray: np.ndarray) -> np.ndarray:
    """Otsu's threshold to pure black and white, as the article does."""
    _, out = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return out


def remove_ruled_lines(ink: np.ndarray) -> np.ndarray:
    """Erase long straight thin lines (ruled or squared paper, page edges) with line-shaped openings.

    A line must run over half the image's width (or height) and be thin for its length, so
    a digit's own straight strokes stay.
    """
    h, w = ink.shape
    mask = (ink > 0).astype(np.uint8)
    lines = np.zeros_like(mask)
    for length, extent_axis in ((w // 4, 1), (h // 4, 0)):
        if length < 12:
            continue
        # The opening works row by row (column by column), so only rows where a pixel can survive
        # the erosion need it: those with `length` ink pixels, or whose first or last (length+1)//2
        # pixels are all ink (OpenCV's erosion counts the outside as ink). Exact, and most rows
        # of most images qualify for neither.
        along = mask if extent_axis == 1 else mask.T
        half = (length + 1) // 2
        busy = np.flatnonzero((np.count_nonzero(along, axis=1) >= length)
                              | along[:, :half].all(axis=1) | along[:, -half:].all(axis=1))
        if busy.size == 0:
            continue
        opened = np.zeros_like(along)
        opened[busy] = cv2.morphologyEx(along[busy], cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
        candidate = np.ascontiguousarray(opened if extent_axis == 1 else opened.T)
        n, labels, stats = components(candidate)
        for i in range(1, n):
            x, y, bw, bh, area = stats[i]
            run, side = (bw, w) if extent_axis == 1 else (bh, h)
            thickness = area / max(run, 1)
            reaches_border = (x <= 1 or x + bw >= w - 1) if extent_axis == 1 else (y <= 1 or y + bh >= h - 1)
            long_enough = run >= 0.85 * side or (reaches_border and run >= 0.5 * side)
            if long_enough and thickness <= max(3.0, run / 40):
                lines[labels == i] = 1
    if not lines.any():
        return ink.copy()
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))
    out = np.where(lines > 0, 0, ink).astype(np.uint8)
    # Close the gaps the erased lines leave in strokes that crossed them (only on line pixels).
    closed = cv2.morphologyEx(out, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    return np.where(lines > 0, closed, out).astype(np.uint8)


# --- finding the digit ---------------------------------------------------------------------------


def _lies_along_border(labels: np.ndarray, i: int, box, shape) -> bool:
    """Whether component ``i`` lies along an image side: a page edge or a dark table, not a digit.

    It does when it covers over 30% of a side, or over 10% of a side and most of its own
    extent along that side (a tilted table edge that the threshold broke into pieces). A digit
    cut by the frame touches the side only where its strokes cross it.
    """
    x, y, bw, bh = box
    h, w = shape
    runs = []  # (pixels on the side, side length, own extent along it)
    if y == 0:
        runs.append((np.count_nonzero(labels[0, x:x + bw] == i), w, bw))
    if y + bh == h:
        runs.append((np.count_nonzero(labels[h - 1, x:x + bw] == i), w, bw))
    if x == 0:
        runs.append((np.count_nonzero(labels[y:y + bh, 0] == i), h, bh))
    if x + bw == w:
        runs.append((np.count_nonzero(labels[y:y + bh, w - 1] == i), h, bh))
    return any(n > 0.3 * side or (n > 0.1 * side and n > 0.5 * extent) for n, side, extent in runs)


def _is_page_edge(x: int, y: int, bw: int, bh: int, h: int, w: int) -> bool:
    """A long, thin mark near the image border running along it: the edge of the page."""
    touches_top_or_bottom = y == 0 or y + bh == h
    touches_left_or_right = x == 0 or x + bw == w
    if (bh >= 0.8 * h or (touches_top_or_bottom and bh >= 0.5 * h)) and bw < 0.2 * w:
        centre = (x + bw / 2) / w
        return centre < 0.2 or centre > 0.8
    if (bw >= 0.8 * w or (touches_left_or_right and bw >= 0.5 * w)) and bh < 0.2 * h:
        centre = (y + bh / 2) / h
        return centre < 0.2 or centre > 0.8
    return False


def same_digit(a, b) -> bool:
    """Whether two ink boxes (x, y, w, h) are strokes of one digit.

    Either they share columns and nearly touch vertically (a 5's detached bar), or a short
    stroke sits beside a tall one, within its height and almost touching it (a 4 in two strokes).
    """
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    overlap = min(ax + aw, bx + bw) - max(ax, bx)
    vertical_gap = max(by - (ay + ah), ay - (by + bh), 0)
    if overlap > 0.5 * min(aw, bw) and vertical_gap < 0.25 * max(ah, bh):
        return True
    (sx, sy, sw, sh), (tx, ty, tw, th) = sorted((a, b), key=lambda r: r[3])  # short, tall
    horizontal_gap = max(tx - (sx + sw), sx - (tx + tw), 0)
    within = sy >= ty - 0.4 * th and sy + sh <= ty + 1.1 * th
    merged_width = max(sx + sw, tx + tw) - min(sx, tx)
    merged_height = max(sy + sh, ty + th) - min(sy, ty)
    upper = sy + sh / 2 < ty + 0.6 * th  # dots, commas and hyphens sit low or are flat
    return 0.3 * th <= sh < 0.7 * th and upper and within and horizontal_gap < 0.1 * th and merged_width <= merged_height


def ink_components(ink: np.ndarray):
    """Connected components of the ink that can be part of a digit, with their stats.

    Returns (labels, stats, keep): components too small (specks), or touching the border
    while spanning most of it (page edge, table), are not kept.
    """
    h, w = ink.shape
    mask = (ink > 0).astype(np.uint8)
    n, labels, stats = components(mask)
    if n <= 1:
        return labels, stats, []
    floor = max(4, 0.0002 * h * w)
    candidates = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if area < floor:
            continue
        touches = (x == 0) + (y == 0) + (x + bw == w) + (y + bh == h)
        if touches and _lies_along_border(labels, i, (x, y, bw, bh), (h, w)):
            continue  # page edge or dark table around the page: it runs along the border
        if _is_page_edge(x, y, bw, bh, h, w):
            continue
        candidates.append(i)
    if not candidates:
        return labels, stats, []
    # Specks are small next to the biggest mark left (not next to a table edge dropped above).
    biggest = max(stats[i, cv2.CC_STAT_AREA] for i in candidates)
    keep = [i for i in candidates if stats[i, cv2.CC_STAT_AREA] >= 0.03 * biggest]
    return labels, stats, keep


def isolate_digit(ink: np.ndarray) -> np.ndarray:
    """Keep the largest digit-like blob and the strokes that belong with it; erase everything else.

    Broken strokes (a 5's detached bar, a 4 drawn in two strokes) are kept too: see
    ``same_digit`` for when two marks count as one digit.
    """
    h, w = ink.shape
    if np.count_nonzero(ink) > 0.45 * h * w:
        raise NoDigit("too much ink: this looks like noise or texture, not a digit on paper")
    labels, stats, keep = ink_components(ink)
    if not keep:
        raise NoDigit("no digit-shaped mark found (only specks, lines or edges)")
    if len(keep) > 40:
        raise NoDigit("too many separate marks: this looks like noise or text, not one digit")
    # The digit is the blob with the most ink (area x brightness): faint shadow edges lose to it.
    # Only the box around the kept marks matters (a sketch's ink fills a small part of its canvas).
    x0, y0 = stats[keep, 0].min(), stats[keep, 1].min()
    x1, y1 = (stats[keep, 0] + stats[keep, 2]).max(), (stats[keep, 1] + stats[keep, 3]).max()
    region = (slice(y0, y1), slice(x0, x1))
    main = keep[0]
    if len(keep) > 1:
        mass = np.bincount(labels[region].ravel(), weights=ink[region].ravel(), minlength=len(stats))
        main = keep[int(np.argmax(mass[keep]))]
    box = list(stats[main, :4])
    chosen = [main]
    grown = True
    while grown:  # grow the group: a stroke can belong to one already added
        grown = False
        for i in keep:
            if i not in chosen and same_digit(box, stats[i, :4]):
                chosen.append(i)
                x0, y0 = min(box[0], stats[i, 0]), min(box[1], stats[i, 1])
                box = [x0, y0, max(box[0] + box[2], stats[i, 0] + stats[i, 2]) - x0,
                       max(box[1] + box[3], stats[i, 1] + stats[i, 3]) - y0]
                grown = True
    wanted = np.zeros(len(stats), bool)
    wanted[chosen] = True
    out = np.zeros_like(ink)
    out[region] = np.where(wanted[labels[region]], ink[region], 0)  # a lookup table: faster than np.isin
    return out


# --- digit stages (one digit) -----------------------------------------------------------------


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


def normalize_stroke(image: np.ndarray) -> np.ndarray:
    """Thicken thin pen lines and thin thick brush strokes to MNIST's stroke-to-height ratio.

    Measures the stroke width with a distance transform, then dilates or erodes the ink
    with a round kernel; the output is solid ink, as MNIST's strokes are.
    """
    mask = (image > 0).astype(np.uint8)
    if not mask.any():
        raise NoDigit("nothing left to normalise")
    height = max(mask.shape)
    target = TARGET_STROKE_RATIO * height
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
    elif width > 1.6 * target:
        r = max(1, int(round((width - target) / 2)))
        eroded = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
        # Only erode where that keeps the digit's parts: a thick stroke must not vanish.
        if eroded.sum() > 0.25 * mask.sum():
            mask = eroded
    return crop_to_ink(mask * 255)


def fit_box(image: np.ndarray, side: int = BOX_SIDE) -> np.ndarray:
    """Resize so the longer side is ``side`` px, keeping the aspect ratio, with area averaging (anti-aliased)."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation)


def article_fit_box(image: np.ndarray, side: int = BOX_SIDE) -> np.ndarray:
    """The article's fit: resize the longer side to 20 px keeping the aspect ratio."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    return cv2.resize(image, (max(1, int(round(w * scale))), max(1, int(round(h * scale)))))


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


def resize_frame(image: np.ndarray, side: int = FRAME_SIDE) -> np.ndarray:
    """Squash the whole image to 28x28, as the article does first."""
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)

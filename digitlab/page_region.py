"""The page in a photo that shows what it lies on: a sheet or a sticky note on a dark desk.

The grayscale, polarity and threshold rules take the photo's median for the paper. Where a dark desk fills much
of the frame, the median is the desk: the page looks like light ink on a dark background, or Otsu's level falls
between desk and page and the pencil on the page is lost. ``page_alone_options`` offers the grayscale with the
surround filled with the paper's own tone, so every later stage sees a page that fills the frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import photo_stages as ps

# The page is found at this long side: a desk is large, and a digit's strokes vanish under the median filter.
PAGE_SEARCH_SIDE = 200
# The median filter's size there (pixels): wider than a pen's stroke at that size, narrower than a desk's strip.
INK_ERASING_MEDIAN = 5
# A picture under this many pixels on its short side at the search size shows no page and desk apart.
PAGE_SEARCH_MIN_SIDE = 16
# The surround is at least this many grey levels darker than the paper (in the brightest channel: paper of any
# colour is bright in its own; a wooden desk under a white page stands 60-120 below it).
PAGE_SURROUND_CONTRAST = 60
# The surround covers at least this share of the frame (less is a page's own rim, a vignette or a shadow's edge) ...
PAGE_SURROUND_SHARE = 0.05
# ... and the page at least this share (less is a light object on a dark page, or a speck). A sticky note on a desk
# can be small: at 0.15, one cut by the frame's edge on a wooden desk was missed, and the desk's grain read 1.
PAGE_SHARE = 0.06
# The page's edge is a step: across it the grey changes by at least this share of the page-to-surround contrast
# within two pixels of the search size (a shadow's edge is a ramp over a tenth of the frame: about a fifth of it).
PAGE_EDGE_SHARPNESS = 0.5
# The paper's colour is taken from about this many pixels along the long side (a median: ink does not move it).
PAPER_SAMPLE_SIDE = 128
# The filled surround reaches this share of the long side into the page: its edge, and the drop shadow under it.
PAGE_RIM = 0.01


def _page_hull(image: np.ndarray) -> np.ndarray | None:
    """The page as a 0/1 mask at the search size (``page_mask``), or None where no darker surround shows."""
    bright = image if image.ndim == 2 else cv2.max(cv2.max(image[..., 0], image[..., 1]), image[..., 2])
    small = ps.downscaled(bright, PAGE_SEARCH_SIDE)
    if min(small.shape) < PAGE_SEARCH_MIN_SIDE:
        return None
    small = cv2.medianBlur(small, INK_ERASING_MEDIAN)
    _, light = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(light, connectivity=8)
    if n < 2:
        return None
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    points = cv2.findNonZero((labels == biggest).astype(np.uint8))
    hull = np.zeros_like(light)
    cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
    page, surround = hull > 0, hull == 0
    if page.mean() < PAGE_SHARE or surround.mean() < PAGE_SURROUND_SHARE:
        return None
    contrast = np.median(small[page]) - np.median(small[surround])
    if contrast < PAGE_SURROUND_CONTRAST:
        return None
    # The step across the page's own outline (not the ink's edges on it), away from the frame's border.
    square = np.ones((3, 3), np.uint8)
    edge = (hull - cv2.erode(hull, square)).astype(bool)
    edge[[0, -1], :] = False
    edge[:, [0, -1]] = False
    if not edge.any():
        return None
    step = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, square)
    if np.median(step[edge]) < PAGE_EDGE_SHARPNESS * contrast:
        return None  # a soft shadow, not a desk
    return hull


def page_mask(image: np.ndarray) -> np.ndarray | None:
    """Where the page is (a uint8 0/1 mask at the image's size), or None where no darker surround shows.

    The page is the convex hull of the biggest light region (Otsu's level on the brightest channel, at a
    small size, median-filtered so that ink does not split it); the ink on it lies inside the hull. Its edge must
    be a step: a soft shadow darkens paper as much as a desk can be dark, but over a long ramp.
    """
    hull = _page_hull(image)
    if hull is None:
        return None
    h, w = image.shape[:2]
    rim = max(1, round(PAGE_RIM * max(h, w)))
    full = cv2.resize(hull, (w, h), interpolation=cv2.INTER_NEAREST)
    full = cv2.erode(full, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rim + 1, 2 * rim + 1)))
    return full if full.mean() >= PAGE_SHARE else None  # a narrow strip of paper is all rim


def page_alone_options(image: np.ndarray, source: str = ps.SOURCE_PHOTO) -> list[tuple[str, np.ndarray]]:
    """A photo of a page on a darker surround: the surround filled with the paper's colour, then the grayscale rule
    (``grayscale_options``), which now sees the page's paper as the photo's median."""
    if source != ps.SOURCE_PHOTO or image.ndim != 3:
        return []
    page = page_mask(image)
    if page is None:
        return []
    step = max(1, max(image.shape[:2]) // PAPER_SAMPLE_SIDE)
    paper = np.median(image[::step, ::step, :3][page[::step, ::step] > 0], axis=0).astype(np.uint8)
    alone = np.empty((*page.shape, 3), np.uint8)
    alone[:] = paper
    cv2.copyTo(np.ascontiguousarray(image[..., :3]), page, alone)  # the page over the paper's colour
    label, grey = ps.grayscale_options(alone)[0]
    return [(f"{label}, the page alone (the darker surround filled with the paper's tone)", grey)]


def polarity_options(gray: np.ndarray, source: str = ps.SOURCE_PHOTO) -> list[tuple]:
    """``ps.polarity_options``, with a light page on a darker surround as one more opinion on a photo.

    Where a desk fills most of the frame, the median and the local rule both take it for the background and
    the page for light ink; then neither reading is favoured, and the verifier judges the two (a tie goes to the
    page's reading: dark ink on it).
    """
    options = ps.polarity_options(gray, source)
    if source != ps.SOURCE_PHOTO or len(options) < 2 or len(options[1]) > 2 or options[0][0] != ps.KEPT:
        return options  # the rule inverts already, or is unsure already
    if _page_hull(gray) is None:
        return options
    return [(*option[:2], 1.0) for option in reversed(options)]

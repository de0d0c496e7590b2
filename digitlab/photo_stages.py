"""The robust pipeline's photo stages: a whole photo or drawing in, bright ink on black out.

Conventions: a stage takes a NumPy image and returns a new one. Until ``grayscale`` the image
is RGB(A) uint8; after it, uint8 grey. From ``polarity`` on, ink is bright on a dark
background, as in MNIST. A stage that finds nothing to work on raises ``NoDigit``. Where a
stage makes a decision a photo can get wrong (which way is ink, how to even out light,
whether straight lines are ruling), its ``*_options`` function returns every reasonable
answer, the rule's first, and the pipeline lets the verifier judge them.
Which stages run, in which order, is decided in ``pipeline.py``, not here.
"""

from __future__ import annotations

import cv2
import numpy as np

from .errors import NoDigit
from .mnist_stages import stroke_width
from .segmentation import components

# Photos are analysed at this long side: enough for a small digit in a 12 MP frame, cheap to process.
WORKING_SIDE = 1280
# Ink must differ from the paper by at least this fraction of full contrast to count.
MIN_INK_CONTRAST = 0.16
# Paper whose brightness varies less than this fraction of full contrast counts as evenly lit.
EVEN_PAPER_SPREAD = 0.06
# MNIST strokes at 28x28 are ~2.5 px wide in a ~20 px tall digit: about 1/8 of the height.


def _require_ink(image: np.ndarray, reason: str) -> None:
    if not np.any(image):
        raise NoDigit(reason)


def percentiles(image: np.ndarray, percents) -> np.ndarray:
    """``np.percentile(image, percents)`` (its linear method, to the last bit) for uint8 pictures, from a
    256-bin histogram: np.percentile partitions every pixel, ~25x slower on a working-size picture."""
    assert image.dtype == np.uint8, image.dtype
    at_or_below = np.cumsum(cv2.calcHist([np.ascontiguousarray(image)], [0], None, [256], [0, 256]).ravel())
    n = int(at_or_below[-1])
    q = np.true_divide(np.asarray(percents, np.float64), 100)
    virtual = (n - 1) * q  # NumPy's own steps, so the rounding is the same
    previous = np.floor(virtual)
    gamma = virtual - previous
    rank = previous.astype(np.int64)
    a = np.searchsorted(at_or_below, rank, side="right").astype(np.float64)
    b = np.searchsorted(at_or_below, np.minimum(rank + 1, n - 1), side="right").astype(np.float64)
    return np.where(gamma >= 0.5, b - (b - a) * (1 - gamma), a + (b - a) * gamma)


# --- photo stages (whole image) ------------------------------------------------------------------


# What an input is taken for: what decision stages may consider.
SOURCE_DRAWING = "drawing"  # the app's sketchpad: every stroke is the digit
SOURCE_CANVAS = "canvas"  # a flat canvas (an uploaded drawing or a clean scan): every stroke first, then as a photo
SOURCE_PHOTO = "photo"

# A canvas is flat when this share of its pixels is one grey level (+-2): no grain, no JPEG noise.
FLAT_CANVAS_SHARE = 0.6


def looks_like_drawing(image: np.ndarray) -> bool:
    """A drawing on a flat canvas: transparent pixels, or most pixels exactly one tone in every colour channel.

    Photos have grain, except in a channel that clips: bright green or yellow paper can be a flat 255 in its
    own colour's channel and still grainy in the others, and taken for a canvas its printed text became strokes.
    """
    if image.ndim == 3 and image.shape[2] == 4 and (image[..., 3] < 255).any():
        return True
    step = max(1, max(image.shape[:2]) // 256)
    small = np.ascontiguousarray(image[::step, ::step])
    channels = range(min(3, small.shape[2])) if small.ndim == 3 else [0]
    return all(_flat_level(_histogram(small, channel)) is not None for channel in channels)


def _histogram(picture: np.ndarray, channel: int = 0) -> np.ndarray:
    """A uint8 picture's 256-bin histogram of one channel (OpenCV's: ~5x faster than np.bincount of a copy)."""
    return cv2.calcHist([picture], [channel], None, [256], [0, 256]).ravel()


def _flat_level(counts: np.ndarray) -> int | None:
    """The level (+-2) of a 256-bin histogram that holds ``FLAT_CANVAS_SHARE`` of its pixels, or None."""
    mode = int(counts.argmax())
    return mode if counts[max(0, mode - 2):mode + 3].sum() >= FLAT_CANVAS_SHARE * counts.sum() else None


def flat_tone(grey: np.ndarray) -> int | None:
    """The grey level (+-2) that covers ``FLAT_CANVAS_SHARE`` of the picture, or None (photos have grain)."""
    step = max(1, max(grey.shape[:2]) // 256)
    return _flat_level(_histogram(np.ascontiguousarray(grey[::step, ::step])))


def flatten_transparency(image: np.ndarray) -> np.ndarray:
    """Composite RGBA onto a background that contrasts with the visible ink.

    A drawing often arrives as ink on a fully transparent canvas: composited on white,
    black ink stays readable; light ink is composited on black instead.
    """
    if image.ndim != 3 or image.shape[2] != 4:
        return image
    *channels, alpha = cv2.split(image)  # contiguous channels without numpy's slow strided copies
    rgb = cv2.merge(channels)
    visible = alpha > 127
    if visible.all() or not visible.any():
        return rgb.copy()
    ink_brightness = float(np.mean(cv2.mean(rgb, mask=visible.view(np.uint8))[:3]))
    alpha3 = cv2.merge([alpha, alpha, alpha])
    if ink_brightness >= 128:  # on black: rgb * alpha
        return cv2.multiply(rgb, alpha3, scale=1 / 255)
    # on white: 255 - (255 - rgb) * alpha, the same blend in uint8 without a float copy of the picture
    return cv2.subtract(255, cv2.multiply(cv2.subtract(255, rgb), alpha3, scale=1 / 255))


def working_size(image: np.ndarray, side: int = WORKING_SIDE) -> np.ndarray:
    """Shrink large photos to ``side`` pixels on the long side (area averaging keeps thin strokes)."""
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Exact halvings take OpenCV's fast area path; area averaging at any other factor is slow on 12 MP.
    while min(image.shape[:2]) >= 2 and max(image.shape[:2]) // 2 >= side:
        h, w = image.shape[:2]
        even = image[:h - h % 2, :w - w % 2]
        image = cv2.resize(even, (even.shape[1] // 2, even.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if image.shape[:2] == size[::-1]:
        return image
    # The last factor lies between 1/2 and 1, where area averaging takes OpenCV's slow generic path (~18 ms from
    # 2000x1500): enlarging bilinearly to twice the size and halving averages the same area, within a few grey levels.
    doubled = cv2.resize(image, (2 * size[0], 2 * size[1]), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(doubled, size, interpolation=cv2.INTER_AREA)


def downscaled(picture: np.ndarray, side: int) -> np.ndarray:
    """``picture`` area-averaged to a long side of at most ``side`` (as it is where it is smaller)."""
    h, w = picture.shape[:2]
    scale = min(1.0, side / max(h, w))
    return cv2.resize(picture, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def ink_grayscale(image: np.ndarray) -> np.ndarray:
    """Grey that keeps coloured ink dark: the darkest of R, G and B at each pixel.

    Luminance makes blue ballpoint and red pen pale (blue is only 11% of luminance); the
    minimum channel keeps any saturated ink as dark as black ink against white paper.
    """
    if image.ndim == 2:
        return image
    r, g, b = cv2.split(np.ascontiguousarray(image[..., :3]))
    return cv2.min(cv2.min(r, g), b)  # ~10x faster than np.min over the strided channel axis


# Paper whose median colour spans more than this many levels across R, G, B is coloured (a sticky note).
SATURATED_PAPER_SPREAD = 60


def grayscale_options(image: np.ndarray, source: str = SOURCE_PHOTO) -> list[tuple[str, np.ndarray]]:
    """The darkest channel, and on strongly coloured paper also the channel where the paper is brightest:
    whichever shows the ink darker against the paper first; then the third channel.

    On a yellow or orange note the darkest channel (blue) is dark paper too: grey pencil nearly
    vanishes into it, and a blue grid printed on it is lighter than the paper, so after
    inverting, the paper between the grid lines stands out as ink. The paper's brightest channel
    keeps dark ink dark against bright paper; red ink on pink paper still shows best in the darkest.
    """
    darkest = ("darkest colour channel", ink_grayscale(image))
    if image.ndim == 2:
        return [darkest]
    step = max(1, max(image.shape[:2]) // 128)
    paper = np.median(image[::step, ::step, :3].reshape(-1, 3), axis=0)
    if paper.max() - paper.min() < SATURATED_PAPER_SPREAD:
        return [darkest]
    brightest = int(np.argmax(paper))
    names = ("red", "green", "blue")
    options = [darkest, (f"the {names[brightest]} channel, where the coloured paper is brightest",
                         np.ascontiguousarray(image[..., brightest]))]
    options.sort(key=lambda option: -ink_contrast(option[1]))  # stable: the darkest channel wins ties
    # Ink of a colour near the paper's (red on an orange note) fades in both: another channel may hold it, and the
    # verifier judges (the rule's contrast measure is fooled by a shadow on the note, so it does not choose).
    middle = 3 - brightest - int(np.argmin(paper))  # the paper's darkest channel is near the darkest channel
    return options + [(f"the {names[middle]} channel", np.ascontiguousarray(image[..., middle]))]


# The darkest this share of a photo is taken as its ink (a small digit covers well under 1% of a phone photo).
DARKEST_SHARE = 0.002


def ink_contrast(gray: np.ndarray) -> float:
    """How far the darkest pixels (the ink, ``DARKEST_SHARE``) lie below the paper's median tone."""
    step = max(1, max(gray.shape) // 512)
    sample = cv2.medianBlur(np.ascontiguousarray(gray[::step, ::step]), 3)  # single-pixel noise is not ink
    ink, paper = percentiles(sample, (100 * DARKEST_SHARE, 50))
    return float(paper - ink)


def coloured_paper_grayscale(image: np.ndarray) -> np.ndarray:
    """The grayscale rule: the first of ``grayscale_options``."""
    return grayscale_options(image)[0][1]


def background_is_light(gray: np.ndarray) -> bool:
    """True when the ink is darker than its surroundings.

    Two local measures of which strokes stand out most, each blind where the other sees. Each pixel's
    deviation from its neighbourhood's median (which follows shadows and uneven light) takes the lit side
    of a hard shadow's edge for light ink: near a wedge of shadow the median mixes both tones. What a
    grey closing (dark strokes) or opening (light ones) takes away keeps such a step between tones, but
    takes the paper inside a dark digit's loops for light strokes. Where the two disagree, or either finds
    dark and light strokes equally strong, the paper-is-the-median opinion (``paper_is_the_lighter_tone``) decides.
    """
    small = downscaled(gray, 320)
    if min(small.shape) < 3:
        return float(np.median(small)) >= 128
    small = cv2.medianBlur(small, 3)  # single-pixel noise must not decide
    k = max(3, int(min(small.shape) * 0.15) | 1)
    deviation = small.astype(np.int16) - cv2.medianBlur(small, k).astype(np.int16)
    window = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    closed_away = cv2.morphologyEx(small, cv2.MORPH_BLACKHAT, window)  # closing - picture: dark strokes
    opened_away = cv2.morphologyEx(small, cv2.MORPH_TOPHAT, window)  # picture - opening: light strokes
    by_median, by_morphology = (None if darker == lighter else darker > lighter
                                for darker, lighter in ((-int(deviation.min()), int(deviation.max())),
                                                        (int(closed_away.max()), int(opened_away.max()))))
    if by_median is not None and by_median == by_morphology:
        return by_median
    return paper_is_the_lighter_tone(gray)


def auto_polarity(gray: np.ndarray) -> np.ndarray:
    """Make ink bright on dark: invert when the background is lighter than the ink."""
    return polarity_options(gray)[0][1]


def paper_is_the_lighter_tone(gray: np.ndarray) -> bool:
    """The second opinion on polarity: paper covers most of a photo, so the median is the paper's tone."""
    step = max(1, max(gray.shape) // 256)
    low, median, high = percentiles(gray[::step, ::step], (1, 50, 99))
    return median >= (low + high) / 2


INVERTED = "inverted: dark ink on light paper"
KEPT = "kept: light ink on a dark background"


def polarity_options(gray: np.ndarray, source: str = SOURCE_PHOTO) -> list[tuple]:
    """Both readings of which way is ink, the local-contrast rule's first.

    A bold digit filling a close-up fools any rule about which tone is the paper; carried to
    the end, the wrong reading yields a blob or a loop's inside, which the verifier rejects.
    Where the paper-is-the-median opinion disagrees with the rule, neither reading is favoured.
    On a drawing's flat canvas (``source`` not a photo), the canvas's own tone is a third opinion: a light
    canvas that the median also takes for the paper is the paper, without asking the local rule; otherwise the
    canvas's tone settles a disagreement.
    """
    inverted = (INVERTED, 255 - gray)
    kept = (KEPT, gray.copy())
    median_says_light = paper_is_the_lighter_tone(gray)
    canvas_says_light = _canvas_is_lighter_than_ink(gray) if source != SOURCE_PHOTO else None
    if canvas_says_light and median_says_light:
        return [inverted, kept]
    light = background_is_light(gray)
    if light != median_says_light:
        # A fat brush fools the local rule; a photo taken for a canvas may be flat where a dark table is clipped,
        # so the canvas's tone only settles a disagreement.
        if canvas_says_light is not None:
            light = canvas_says_light
        first, second = (inverted, kept) if light else (kept, inverted)
        return [(*first, 1.0), (*second, 1.0)]
    return [inverted, kept] if light else [kept, inverted]


def _canvas_is_lighter_than_ink(gray: np.ndarray) -> bool | None:
    """Whether a flat canvas's tone (``flat_tone``) is lighter than the marks on it; None if it is not flat."""
    canvas = flat_tone(gray)
    if canvas is None:
        return None
    marks = gray[np.abs(gray.astype(np.int16) - canvas) > 2]
    return marks.size > 0 and float(marks.mean()) < canvas


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


LEVEL_ONLY = "paper level subtracted"
SMOOTH_BACKGROUND = "smooth background subtracted"


def even_lighting(ink: np.ndarray) -> np.ndarray:
    """Subtract the paper's level, or a smooth estimate of it where the light is uneven (see ``lighting_options``)."""
    return lighting_options(ink, alternatives=False)[0][1]


def _minus_level(ink: np.ndarray, level: float) -> np.ndarray:
    """The ink with a paper level subtracted, saturating at 0. (OpenCV reads a Python number beside an array
    of 4 rows or fewer as that array's scalar: a 4x1 picture made cv2.subtract raise.)"""
    return cv2.subtract(ink, np.full_like(ink, int(level)))


def lighting_options(ink: np.ndarray, source: str = SOURCE_PHOTO, alternatives: bool = True) -> list[tuple[str, np.ndarray]]:
    """Subtract a smooth background estimate so shadows and uneven light become flat black.

    The background is the image with strokes removed by a grey opening. The opening must be
    wider than a stroke but as narrow as possible, to follow shadow edges; so a first, wide
    opening finds the strokes, their width is measured, and the second opening is ~3 strokes
    wide. Both run on a small copy for speed. Paper that the wide opening finds evenly lit
    only has its level subtracted; the other estimate is offered too (unless ``alternatives``
    is false, or the input is not a photo), because a bold close-up's strokes
    are wider than any opening that follows a shadow.
    """
    if source != SOURCE_PHOTO:  # a flat canvas has no shadows: a bold drawing must not be taken for one
        return [(LEVEL_ONLY, _minus_level(ink, percentiles(ink, [50])[0]))]
    small = downscaled(ink, 320)
    k_wide = max(3, int(min(small.shape) * 0.18) | 1)
    opened = _octagon_open(small, k_wide)
    # Percentiles, not the range: a blob of ink (a filled loop) wider than the opening covers a
    # few per cent of the image; a shadow or a gradient covers much more.
    low, median, high = percentiles(opened, (2, 50, 90))
    level_only = (LEVEL_ONLY, _minus_level(ink, median))
    if high - low < EVEN_PAPER_SPREAD * 255:
        # Evenly lit paper (a scan, a drawing): subtract its level only. A narrow opening would
        # take a filled loop or a blob of ink for background and erase it.
        if source != SOURCE_PHOTO or not alternatives:
            return [level_only]
        broad = _open_background(small, k_wide, opened)
        return [level_only, (SMOOTH_BACKGROUND, _subtract_smooth_background(ink, small, k_wide, broad))]
    broad = _open_background(small, k_wide, opened)
    flat = _subtract_smooth_background(ink, small, k_wide, broad)
    if not alternatives:
        return [(SMOOTH_BACKGROUND, flat)]
    shadowed = _undo_shadow(flat, broad)
    return [(SMOOTH_BACKGROUND, flat), level_only] + ([(SHADOW_EVENED, shadowed)] if shadowed is not None else [])


def _subtract_smooth_background(ink, small, k_wide, broad):
    """The ink minus a background opened just wider than the measured strokes (``broad``: the wide opening's)."""
    h, w = ink.shape
    rough = cv2.subtract(small, broad)
    k = k_wide
    if rough.max() > MIN_INK_CONTRAST * 255:
        level, strokes = cv2.threshold(rough, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        width = stroke_width(strokes > 0)
        k = int(np.clip(3 * width + 3, 0.04 * max(small.shape), k_wide)) | 1
    background = cv2.resize(_open_background(small, k), (w, h), interpolation=cv2.INTER_LINEAR)
    # No contrast stretch: absolute contrast is what separates faint noise from real ink.
    return cv2.subtract(ink, background)


SHADOW_EVENED = "smooth background subtracted, shadowed ink scaled up"
# The paper's best-lit level: this percentile of its light (a few specular pixels do not set it).
BEST_LIT_PERCENTILE = 95
# Shadowed ink is scaled up at most this much (a shadow that takes 2/3 of the light); paper darker than
# that is a table or a page margin, and is left as it is (its texture would read as strokes).
MAX_SHADOW_GAIN = 3.0
# Paper whose light varies less than this factor has no shadow worth undoing: the threshold's hysteresis
# keeps ink that lost under a quarter of its contrast (and each alternative costs a chain of stages). The
# opening reads grainy paper lighter than it is, and more so in shadow (a shadow that took 40% of the light read 1.49).
MIN_SHADOW_GAIN = 1.3

# The best-lit paper is at least this light (grey level): under the other polarity the "paper" is the
# paper's complement, darker than this on any photo with usable light, and its chain is not worth the time.
MIN_PAPER_LIGHT = 96


def _undo_shadow(flat, broad):
    """``flat`` with its contrast scaled up where the paper is in shadow; None if no part is.

    Light multiplies ink and paper alike, so under a shadow the ink's contrast shrinks with the
    paper's light: dividing by that light (read off the wide opening: a shadow is broad) restores
    it. A dark page margin or a table looks like deep shadow too, and its texture would be
    amplified: so this is an alternative the verifier weighs, not the rule.
    """
    paper_light = 255.0 - broad.astype(np.float32)  # ink is bright here, so the paper's light is 255 - background
    best_lit = float(np.percentile(paper_light, BEST_LIT_PERCENTILE))
    if best_lit < MIN_PAPER_LIGHT:  # no part of the paper is light: the other polarity's image, whose "paper" is the ink's colour
        return None
    gain = np.maximum(best_lit / np.maximum(paper_light, 1.0), 1.0)
    gain[gain > MAX_SHADOW_GAIN] = 1.0  # darker than a shadow leaves paper: a table or a margin, left as it is
    if float(gain.max()) < MIN_SHADOW_GAIN:
        return None
    h, w = flat.shape
    gain = cv2.resize(gain, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.convertScaleAbs(flat.astype(np.float32) * gain)


# Ink whose strongest stroke is under this fraction of full contrast is faint (pencil, a washed-out photo) ...
FAINT_INK_BELOW = 0.4
# ... and is also tried stretched to this fraction; fainter than MIN_FAINT_CONTRAST is paper grain, not ink.
FAINT_INK_TARGET = 0.5
MIN_FAINT_CONTRAST = 0.06
# A phone camera's grain breaks a dim pencil stroke into specks at the threshold: a photo is also tried smoothed, at
# this sigma (pixels) at the working size, scaled with a smaller picture ...
GRAIN_SIGMA = 3.0
# ... and not where that is under this: a scan's or a crop's strokes are a few pixels wide, and it has no such grain.
MIN_GRAIN_SIGMA = 0.8
GRAIN_SMOOTHED = "contrast kept, paper grain smoothed"
# Where it has no such grain, a thin stroke covers part of a pixel in places and is fainter there: a register scan's 0
# broke open at the threshold and read 6. Such a picture is also tried with its faint tones lifted by this gamma
# (0.7 kept fewer real scans' strokes whole; lifting only the tones above MIN_INK_CONTRAST, fewer still).
THIN_STROKE_GAMMA = 0.5
THIN_STROKES_LIFTED = f"faint tones lifted (gamma {THIN_STROKE_GAMMA}), so thin strokes stay whole"
_LIFTED_TONES = np.clip(255 * (np.arange(256) / 255) ** THIN_STROKE_GAMMA, 0, 255).astype(np.uint8)


def keep_contrast(flat: np.ndarray) -> np.ndarray:
    """The rule: the evened image's contrast as it is (``contrast_options`` offers the stretch)."""
    return flat


def contrast_options(flat: np.ndarray, source: str = SOURCE_PHOTO) -> list[tuple[str, np.ndarray]]:
    """The evened image as it is, where the ink is faint with its contrast stretched, and on a photo with its grain
    smoothed or, at a scan's or a crop's size, its faint tones lifted.

    The threshold's fixed level (``MIN_INK_CONTRAST``) separates ink from noise on most photos
    but erases pencil or ink in a dim, washed-out photo; stretched, such ink clears it. A grainy photo's
    dim stroke clears it only in pieces, which a Gaussian blur (``GRAIN_SIGMA``) joins; a thin stroke in a small
    picture, where its fainter stretches are lifted (``THIN_STROKE_GAMMA``). The rule
    keeps the contrast (a blank page stays blank); the other readings must convince the verifier.
    """
    options = [("contrast kept", flat)]
    if source == SOURCE_DRAWING:  # the sketchpad's strokes are ink, however light
        return options
    sigma = GRAIN_SIGMA * max(flat.shape) / WORKING_SIDE
    if source == SOURCE_PHOTO and sigma < MIN_GRAIN_SIGMA:
        options.append((THIN_STROKES_LIFTED, cv2.LUT(flat, _LIFTED_TONES)))
    strongest = float(cv2.medianBlur(flat, 3).max())  # a stroke's level, not a single hot pixel's
    if MIN_FAINT_CONTRAST * 255 <= strongest < FAINT_INK_BELOW * 255:
        gain = FAINT_INK_TARGET * 255 / strongest
        options.append((f"faint ink: contrast stretched x{gain:.1f}", cv2.convertScaleAbs(flat, alpha=gain)))
    if source == SOURCE_PHOTO and sigma >= MIN_GRAIN_SIGMA:  # a flat canvas has no camera grain
        options.append((GRAIN_SMOOTHED, cv2.GaussianBlur(flat, (0, 0), sigma)))
    return options


def threshold_ink(flat: np.ndarray) -> np.ndarray:
    """Keep the ink: hysteresis between Otsu's level and half the strongest ink; zero the rest.

    Pixels above the high level seed the ink; pixels above the low level join when they touch
    a seed. Noise and texture rarely reach the high level, so they go, while the faint edges
    of real strokes stay. The ink keeps its grey level.
    """
    low, high = _ink_levels(flat)
    return _hysteresis(flat, low, high)


# A soft stroke (an airbrush, a heavily blurred drawing) has no flat top: over this share of the ink kept at
# Otsu's level is under the first CORE_LEVELS of the strongest ink (crisp strokes: 0-3%, their anti-aliased edge;
# soft sketches on tuning seeds: 40-65%) ...
SOFT_INK_SHARE = 0.25
# ... and its core, the ink above these shares of the strongest, keeps the shape that the halo fills in.
CORE_LEVELS = (0.75, 0.9)
# A soft stroke's ridges are found with the ink smoothed at this share of its width at Otsu's level: narrow enough
# that a loop the blur filled in stays a dip (0.15 and 0.4 read fewer soft sketches right on diagnostic seeds).
RIDGE_SCALE = 0.25


def threshold_options(flat: np.ndarray, source: str = SOURCE_PHOTO) -> list[tuple[str, np.ndarray]]:
    """The ink at Otsu's level (the rule) and, on a drawing whose strokes are soft, only their core or their ridges.

    Otsu's level keeps a blurred stroke's whole halo: a small soft digit becomes a blob whose
    loops are filled. Its core keeps the shape where the strokes are alike; where a thin stroke
    is fainter than a loop's filled-in middle, only its ridges do. The verifier judges which one is a digit.
    """
    low, high = _ink_levels(flat)
    ink = _hysteresis(flat, low, high)
    options = [("Otsu's level", ink)]
    if source == SOURCE_PHOTO:  # a camera's blur is small beside a pen's stroke; a photo's core is a fragment of it
        return options
    kept = ink[ink > 0]
    strong = 2 * high  # high is half the strongest ink (or Otsu's level, where that is higher)
    if np.count_nonzero(kept <= CORE_LEVELS[0] * strong) <= SOFT_INK_SHARE * kept.size:
        return options
    for level in CORE_LEVELS:
        core = np.where(ink > level * strong, ink, 0)
        if level * strong > low and np.any(core):
            options.append((f"soft strokes: only their core (above {level:.0%} of the strongest ink)", core))
    ridges = soft_ridges(flat, ink)
    if np.any(ridges):
        options.append(("soft strokes: only their ridges (where the ink curves down across the stroke)", ridges))
    return options


def soft_ridges(flat: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """The thresholded ``ink`` where ``flat`` curves down across a stroke more than along it: a blurred stroke's middle.

    The Hessian of the smoothed ink has a strongly negative eigenvalue across a bright ridge and a
    small one along it; a loop's filled-in middle is a dip (both positive) and is left out, however
    bright the blur made it. Smoothing at ``RIDGE_SCALE`` of the stroke width steadies the curvature.
    """
    mask = ink > 0
    sigma = max(1.0, RIDGE_SCALE * stroke_width(mask))
    margin = int(3 * sigma) + 1
    x, y, w, h = cv2.boundingRect(mask.view(np.uint8))
    box = (slice(max(0, y - margin), y + h + margin), slice(max(0, x - margin), x + w + margin))
    smooth = cv2.GaussianBlur(flat[box].astype(np.float32), (0, 0), sigma)
    dxx = cv2.Sobel(smooth, cv2.CV_32F, 2, 0)
    dyy = cv2.Sobel(smooth, cv2.CV_32F, 0, 2)
    dxy = cv2.Sobel(smooth, cv2.CV_32F, 1, 1)
    mean, spread = (dxx + dyy) / 2, np.sqrt(((dxx - dyy) / 2) ** 2 + dxy ** 2)
    across, along = mean - spread, mean + spread
    out = np.zeros_like(ink)
    out[box] = np.where((across < 0) & (-across > np.abs(along)) & mask[box], ink[box], 0)
    return out


def _ink_levels(flat: np.ndarray) -> tuple[float, float]:
    """(low, high): Otsu's level (at least MIN_INK_CONTRAST) and half the strongest ink (its 95th percentile)."""
    strongest = float(flat.max())
    if strongest < MIN_INK_CONTRAST * 255:
        raise NoDigit("blank image: nothing stands out from the background")
    # One histogram gives both levels (cv2.threshold's Otsu would count every pixel again).
    histogram = cv2.calcHist([flat], [0], None, [256], [0, 256]).ravel()
    low = max(otsu_level(histogram), MIN_INK_CONTRAST * 255)
    # The 95th percentile of the ink above the low level (np.percentile sorts).
    above = histogram[int(low) + 1:]
    strong = int(low) + 1 + int(np.searchsorted(np.cumsum(above), 0.95 * above.sum())) if above.sum() else strongest
    return low, max(low, 0.5 * strong)


def otsu_level(histogram: np.ndarray) -> float:
    """Otsu's level from a 256-bin histogram, as ``cv2.threshold(..., THRESH_OTSU)`` finds it from the pixels:
    the first level that maximises the variance between the pixels at or below it and those above."""
    p = histogram.astype(np.float64) / histogram.sum()
    levels = np.arange(256, dtype=np.float64)
    q1 = np.cumsum(p)
    q2 = 1.0 - q1
    mass1 = np.cumsum(levels * p)
    mu = mass1[-1]
    eps = np.finfo(np.float32).eps  # OpenCV skips levels where either side is (almost) empty
    valid = (np.minimum(q1, q2) >= eps) & (np.maximum(q1, q2) <= 1.0 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu1 = mass1 / q1
        mu2 = (mu - q1 * mu1) / q2
        between = np.where(valid, q1 * q2 * (mu1 - mu2) ** 2, 0.0)
    return float(np.argmax(between)) if between.max() > 0 else 0.0


def _hysteresis(flat: np.ndarray, low: float, high: float) -> np.ndarray:
    """The pixels above ``low`` that touch one above ``high``, at their grey level; the rest zeroed."""
    candidates = cv2.threshold(flat, low, 1, cv2.THRESH_BINARY)[1]  # flat > low, as 0/1 (uint8 levels are whole)
    # Label only the box around the candidates: on a photo the ink is a small part of the frame.
    x, y, w, h = cv2.boundingRect(candidates)
    box = (slice(y, y + h), slice(x, x + w))
    n, labels = cv2.connectedComponents(candidates[box], connectivity=8)
    seeded = np.zeros(n, bool)
    seeded[labels[flat[box] > high]] = True
    seeded[0] = False
    out = np.zeros_like(flat)
    out[box] = np.where(seeded[labels], flat[box], 0)
    _require_ink(out, "blank image: nothing stands out from the background")
    return out


# A mark on a found line's course, about as thin as the line and this many times longer than thick, is a piece of it.
LINE_PIECE_ELONGATION = 3


def remove_ruled_lines(ink: np.ndarray) -> np.ndarray:
    """Erase long straight thin lines (ruled or squared paper, page edges) with line-shaped openings.

    A line must run over half the image's width (or height) and be thin for its length, so
    a digit's own straight strokes stay. Paper photographed askew has its ruling tilted: the
    ruling is also looked for a few degrees off level and upright (``_tilted_ruling``).
    """
    mask = (ink > 0).astype(np.uint8)
    straight = _straight_lines(mask, 1) | _straight_lines(mask, 0)
    grown = cv2.dilate(straight, np.ones((3, 3), np.uint8))
    # Tilted lines are found whole (drawn across the picture), so they need no search for their rest.
    tilted = _tilted_ruling(mask & (grown == 0))
    if not straight.any() and not tilted.any():
        return ink.copy()
    lines = grown | cv2.dilate(_rest_of_the_lines(mask, straight, grown), np.ones((3, 3), np.uint8)) | tilted
    out = np.where(lines > 0, 0, ink).astype(np.uint8)
    # Close the gaps the erased lines leave in strokes that crossed them (only on line pixels).
    closed = cv2.morphologyEx(out, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    return np.where(lines > 0, closed, out).astype(np.uint8)


def _straight_lines(mask: np.ndarray, extent_axis: int) -> np.ndarray:
    """The long thin rows (``extent_axis`` 1) or columns (0) of a 0/1 mask: a quarter of the side opened, then
    kept if they run across most of it (or half of it from a border)."""
    h, w = mask.shape
    length = w // 4 if extent_axis == 1 else h // 4
    lines = np.zeros_like(mask)
    if length < 12:
        return lines
    # The opening works row by row (column by column), so only rows where a pixel can survive
    # the erosion need it: those with `length` ink pixels, or whose first or last (length+1)//2
    # pixels are all ink (OpenCV's erosion counts the outside as ink). Exact, and most rows
    # of most images qualify for neither.
    along = mask if extent_axis == 1 else mask.T
    half = (length + 1) // 2
    ends = (mask[:, :half], mask[:, -half:]) if extent_axis == 1 else (mask[:half], mask[-half:])

    def ink_per_line(part):  # the 0/1 mask's row (column) sums: ~10x faster than np.count_nonzero along an axis
        return cv2.reduce(part, 1 if extent_axis == 1 else 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()

    busy = np.flatnonzero((ink_per_line(mask) >= length) | (ink_per_line(ends[0]) == half)
                          | (ink_per_line(ends[1]) == half))
    if busy.size == 0:
        return lines
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
    return lines


# A page is photographed at most this askew (degrees): ruling is looked for this far from upright. Phone photos of
# a page held by hand are often turned 5-10 degrees, and perspective turns the ruling further towards the frame's edge.
MAX_RULING_TILT = 10.0
# A single line further off the axes than this (degrees) is ruling only along most of its course (UPRIGHT_RULING_COVER)
# or as one of a lattice: a thin 7's bar or a leaning 1 across half a tight crop is a single line a few degrees off.
SINGLE_LINE_TILT = 4.0
# The Hough transform's angle step (degrees): a line 0.125 degrees off its bin drifts 3 px over 1280 px.
TILT_STEP = 0.25
# A straight line with ink along this share of the picture is ruling, even broken into dashes by a faint
# print: a digit's stroke covers its own height or width, a small share of a photo (a close-up's long
# stroke is kept by the "lines kept" option).
RULING_COVER = 0.5
# An upright line must have ink along this share of the height, as an upright straight line must (a 1 in a tight crop
# is a thin upright line across half of it).
UPRIGHT_RULING_COVER = 0.85
# Upright thin lines this many and parallel (within SAME_DIRECTION) are squared paper's lattice, not 1s.
LATTICE_LINES = 3
# Lines (or Hough bins) closer in angle than this (degrees) run the same way.
SAME_DIRECTION = 1.0
# Ruled lines lie at least this far apart (pixels at half the working size); nearer Hough lines are one line's bins.
RULING_SPACING = 6
# At most this many lines per direction are judged (squared paper at working size has fewer).
MAX_RULED_LINES = 48
# A picture with more ink than this share is not ink on paper (the wrong polarity): no ruling is looked for.
MAX_RULED_INK = 0.25
# Ink this close to a tilted ruled line (pixels at half size, where it is judged; twice that is erased at full size)
# is the line's: its width and the Hough bin's slack.
RULING_HALF_WIDTH = 1


def _tilted_ruling(mask: np.ndarray) -> np.ndarray:
    """The ink of ruled lines a little off upright or level (paper photographed askew, lines converging in
    perspective), broken or whole: every straight line (Hough transform) near the ruling's directions whose ink
    is a thin line along ``RULING_COVER`` of the picture (``_along``); an upright one, or one further off the
    axes than ``SINGLE_LINE_TILT``, must also have ink along ``UPRIGHT_RULING_COVER`` of its course or be one of a
    lattice (``LATTICE_LINES``)."""
    h, w = mask.shape
    found = np.zeros_like(mask)
    if np.count_nonzero(mask) > MAX_RULED_INK * mask.size:
        return found
    tilt, step, same = np.deg2rad(MAX_RULING_TILT), np.deg2rad(TILT_STEP), np.deg2rad(SAME_DIRECTION)
    # Looked for at half size (a quarter of the Hough transform's work); a thin line stays a line of pixels.
    small = (cv2.resize(mask, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA) > 0).astype(np.uint8)
    # Only thin ink can be ruling: strokes a 3x3 square fits in (a digit's, at half size) are left out.
    small &= (cv2.morphologyEx(small, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) == 0)
    if np.count_nonzero(small) < RULING_COVER * min(small.shape):
        return found
    # theta is the line's normal: level lines near 90 degrees, upright ones near 0 or 180.
    for low, high, level in ((np.pi / 2 - tilt, np.pi / 2 + tilt, True), (0.0, tilt, False),
                             (np.pi - tilt, np.pi, False)):
        side = small.shape[1] if level else small.shape[0]
        lines = cv2.HoughLines(small, 1, step, int(RULING_COVER * side), min_theta=low, max_theta=high)
        if lines is None:
            continue
        candidates = []
        for rho, theta in _strongest_apart(lines[:, 0], same)[:MAX_RULED_LINES]:
            inked, thin = _along(small, rho, theta)
            if thin >= RULING_COVER:
                candidates.append((rho, theta, inked))
        for rho, theta, inked in candidates:
            # An upright line across half the height may be a 1 in a tight crop: it is ruling when it runs
            # along most of the height, as a straight one must, or is one of a lattice (squared paper).
            lattice = sum(abs(t - theta) <= same for _, t, _ in candidates) >= LATTICE_LINES
            off_axis = np.rad2deg(abs(theta - np.pi / 2) if level else min(theta, np.pi - theta))
            near_level = level and off_axis <= SINGLE_LINE_TILT
            if near_level or inked >= UPRIGHT_RULING_COVER or lattice:
                cv2.line(found, *_refitted_ends(mask, 2 * rho, theta, level), 1, 4 * RULING_HALF_WIDTH + 1)
    return found & mask


# A Hough line is a bin (TILT_STEP, and two pixels of rho at full size): across the frame it drifts up to 3 px off the
# printed line, and the band erased along it leaves a sliver of the line that clings to a digit crossing it. The line
# is refitted to the ink within this many pixels (full size) of the bin's course, where the ink there is thin.
RULING_REFIT_BAND = 4
# Fewer thin pixels than this along the course (a line mostly hidden by strokes) keep the bin's course.
RULING_REFIT_MIN_PIXELS = 20


def _course(rho: float, theta: float, level: bool, along: np.ndarray) -> np.ndarray:
    """Where the line x cos(theta) + y sin(theta) = rho is at each ``along`` position: y for each x on a level line,
    x for each y on an upright one."""
    return (rho - along * (np.cos(theta) if level else np.sin(theta))) / (np.sin(theta) if level else np.cos(theta))


def _band(mask: np.ndarray, course: np.ndarray, level: bool, offsets) -> np.ndarray:
    """Whether ``mask`` is inked at each of ``offsets`` (rows) from a line's ``course`` at each position along it
    (columns); points off the picture are not."""
    along = np.arange(len(course))
    at = course[None, :] + np.asarray(offsets)[:, None]
    side = mask.shape[0] if level else mask.shape[1]
    clipped = np.clip(at, 0, side - 1)
    return (at >= 0) & (at < side) & ((mask[clipped, along] if level else mask[along, clipped]) > 0)


def _refitted_ends(mask: np.ndarray, rho: float, theta: float, level: bool) -> tuple[tuple[int, int], tuple[int, int]]:
    """The end points, on the frame's sides, of the line fitted (least squares) to the ink near Hough's line
    (``rho`` at full size). Positions where the band is inked at both of its edges are a stroke crossing the line
    (or a thick mark on it) and are left out."""
    h, w = mask.shape
    along = np.arange(w if level else h)
    course = np.round(_course(rho, theta, level, along)).astype(int)
    offsets = np.arange(-RULING_REFIT_BAND, RULING_REFIT_BAND + 1)
    hits = _band(mask, course, level, offsets)
    hits &= ~(hits[0] & hits[-1])[None, :]
    end = len(along) - 1
    rows, cols = np.nonzero(hits)  # the inked points: offset from the course, position along it
    if len(cols) >= RULING_REFIT_MIN_PIXELS and np.ptp(cols) > 0:
        slope, intercept = np.polyfit(cols, course[cols] + offsets[rows], 1)
        first, last = intercept, intercept + slope * end
    else:
        first, last = _course(rho, theta, level, np.array([0, end]))
    if level:
        return (0, int(round(first))), (end, int(round(last)))
    return (int(round(first)), 0), (int(round(last)), end)


def _strongest_apart(lines: np.ndarray, turn: float) -> np.ndarray:
    """Hough's (rho, theta) lines, strongest first, without the bins around each: lines through its middle at
    other tilts (within ``turn``) and its neighbours closer than ``RULING_SPACING``."""
    kept = np.zeros(len(lines), bool)
    near = np.zeros(len(lines), bool)
    for k in range(len(lines)):
        if not near[k]:
            kept[k] = True
            near |= (np.abs(lines[:, 0] - lines[k, 0]) <= RULING_SPACING) & (np.abs(lines[:, 1] - lines[k, 1]) <= turn)
    return lines[kept]


def _along(mask: np.ndarray, rho: float, theta: float) -> tuple[float, float]:
    """The shares of the picture along the line (rho, theta) where it has ink (within ``RULING_HALF_WIDTH`` of
    its course), and where that ink is a thin line (none just beyond: a row through digits crosses their bodies)."""
    h, w = mask.shape
    level = abs(np.sin(theta)) > abs(np.cos(theta))
    course = np.round(_course(rho, theta, level, np.arange(w if level else h))).astype(int)
    near = _band(mask, course, level, range(-RULING_HALF_WIDTH, RULING_HALF_WIDTH + 1)).any(axis=0)
    beyond = _band(mask, course, level,
                   [k for d in range(RULING_HALF_WIDTH + 2, 3 * RULING_HALF_WIDTH + 3) for k in (d, -d)]).any(axis=0)
    return float(np.mean(near)), float(np.mean(near & ~beyond))


def _rest_of_the_lines(mask: np.ndarray, lines: np.ndarray, grown: np.ndarray) -> np.ndarray:
    """Marks on the continuation of a found line, as thin as it and running along it: the line's broken or
    tilted pieces that the straight opening missed (a cell border's end), which would otherwise be read as a 1.
    ``grown``: the lines dilated by a pixel, as they are erased."""
    n, line_labels, stats = components(lines)
    count, labels, other = components(mask & (grown == 0))
    if n < 2 or count < 2:
        return np.zeros_like(mask)
    ox, oy, ow, oh = (other[1:, k].astype(float) for k in range(4))
    piece = np.zeros(count, bool)
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        upright = bh > bw
        thick = area / max(bh if upright else bw, 1)
        ys, xs = np.nonzero(line_labels[y:y + bh, x:x + bw] == i)
        # The line's course (x along y for an upright line), extended over the whole picture.
        if upright:
            a, b, centre, offset, thin, length = ys + y, xs + x, oy + oh / 2, ox + ow / 2, ow, oh
        else:
            a, b, centre, offset, thin, length = xs + x, ys + y, ox + ow / 2, oy + oh / 2, oh, ow
        slope, intercept = np.polyfit(a, b, 1) if np.ptp(a) > 0 else (0.0, float(np.mean(b)))
        on_course = np.abs(offset - (slope * centre + intercept)) <= thick + 1
        piece[1:] |= on_course & (thin <= 2 * thick + 2) & (length >= LINE_PIECE_ELONGATION * thin)
    return piece[labels].astype(mask.dtype)


def lines_options(ink: np.ndarray, source: str = SOURCE_PHOTO) -> list[tuple[str, np.ndarray]]:
    """With the long straight lines erased, and (where any were found) without erasing them, the rule's first.

    On a photo erasing is the rule; a digit's own long stroke (a 1 or 7 drawn across most of a close-up)
    can pass for ruling, so keeping them is tried too. On a drawing's flat canvas keeping them is the rule:
    a stroke across the canvas is the digit's (a 1 drawn from top to bottom was erased whole, and a 7 whose
    bar spans the canvas read as a 1); a clean scan's ruling is the alternative. The sketchpad has no ruling.
    """
    if source == SOURCE_DRAWING:
        return [("every stroke kept (a drawing has no ruling)", ink.copy())]
    erased = remove_ruled_lines(ink)
    if np.array_equal(erased, ink):
        return [("no ruled lines found", erased)]
    if source == SOURCE_CANVAS:
        return [("lines kept", ink.copy()), ("ruled lines erased", erased)]
    return [("ruled lines erased", erased), ("lines kept", ink.copy())]

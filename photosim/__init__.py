"""A seeded simulator of people's digits: MNIST test digits as phone photos and browser sketches.

Each MNIST digit is redrawn as a pen stroke (its skeleton, drawn with a round pen of a
chosen width), put on paper (white, ruled, squared, coloured), lit unevenly, shadowed,
warped, blurred, noised and JPEG-compressed. Everything comes from one ``numpy`` Generator,
so a seed gives the same images on every machine.
"""

from __future__ import annotations

import cv2
import numpy as np

from digitlab.pen_drawing import pen_mask, prune_spurs, skeleton  # noqa: F401 (the simulator's pen)

INKS = {  # RGB
    "black": (25, 25, 30),
    "blue": (30, 45, 150),
    "red": (170, 30, 35),
    "pencil": (90, 90, 95),
}


# Sticky notes and pastel paper: strongly coloured, where the darkest channel is far from white.
SATURATED_PAPERS = ((250, 232, 110), (252, 205, 120), (245, 185, 205), (180, 212, 242), (190, 235, 185), (250, 245, 160))


def _paper(h: int, w: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    tint = {"white": (245, 244, 240), "coloured": tuple(int(v) for v in rng.integers(200, 250, 3)),
            "saturated": SATURATED_PAPERS[int(rng.integers(len(SATURATED_PAPERS)))],
            "register": tuple(int(v) for v in np.array((222, 208, 178)) + rng.integers(-20, 20, 3))}.get(kind, (244, 244, 238))
    paper = np.empty((h, w, 3), np.float32)
    paper[:] = tint
    paper += rng.normal(0, 3, (h, w, 1)).astype(np.float32)  # paper grain
    spacing = int(rng.integers(h // 16, h // 9))
    line_color = np.array((150, 170, 215), np.float32) if rng.random() < 0.7 else np.array((160, 160, 160), np.float32)
    width = max(1, h // 500)
    if kind in ("ruled", "squared"):
        for y in range(int(rng.integers(0, spacing)), h, spacing):
            cv2.line(paper, (0, y), (w, y), line_color.tolist(), width)
    if kind == "squared":
        for x in range(int(rng.integers(0, spacing)), w, spacing):
            cv2.line(paper, (x, 0), (x, h), line_color.tolist(), width)
    return paper


def _lighting(h: int, w: int, condition: str, rng: np.random.Generator) -> np.ndarray:
    """A multiplicative light field: a gradient, a vignette and (hard) a soft shadow."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    strength = {"clean": 0.05, "typical": 0.25, "hard": 0.45, "closeup": 0.3, "register": 0.1}[condition]
    grad = ((xx / w - 0.5) * np.cos(angle) + (yy / h - 0.5) * np.sin(angle))
    light = 1.0 - strength * (grad + 0.5) * rng.uniform(0.5, 1.0)
    if condition in ("hard", "closeup") or (condition == "typical" and rng.random() < 0.4):
        # A shadow (a hand or a phone) over part of the page; in hard light its edge is sharp.
        pts = rng.uniform([-0.2 * w, -0.2 * h], [1.2 * w, 1.2 * h], (4, 2)).astype(np.int32)
        shadow = np.zeros((h, w), np.float32)
        cv2.fillConvexPoly(shadow, cv2.convexHull(pts), 1.0)
        hard_edge = condition == "hard" and rng.random() < 0.5
        shadow = cv2.GaussianBlur(shadow, (0, 0), max(h, w) / (300 if hard_edge else 25))
        light *= 1.0 - rng.uniform(0.3, 0.55 if condition == "hard" else 0.4) * shadow
    return light[..., None]


def _compose(canvas: np.ndarray, mask: np.ndarray, x: int, y: int, ink: np.ndarray, opacity: float) -> None:
    h, w = mask.shape
    region = canvas[y:y + h, x:x + w]
    a = (mask[: region.shape[0], : region.shape[1]] * opacity)[..., None]
    region[:] = region * (1 - a) + ink * a


def _camera(img: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    h, w = img.shape[:2]
    if condition not in ("clean", "register"):  # slight perspective
        d = {"typical": 0.03, "hard": 0.06, "closeup": 0.04}[condition]
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = (src + rng.uniform(-d, d, (4, 2)) * [w, h]).astype(np.float32)
        img = cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, dst), (w, h), borderMode=cv2.BORDER_REPLICATE)
    sigma = {"clean": 0.4, "typical": 1.0, "hard": 1.8, "closeup": 1.2, "register": 0.6}[condition] * rng.uniform(0.5, 1.0) * max(h, w) / 1000
    img = cv2.GaussianBlur(img, (0, 0), max(sigma, 0.3))
    noise = {"clean": 1.5, "typical": 4, "hard": 8, "closeup": 4, "register": 5}[condition]
    img = img + rng.normal(0, noise, img.shape).astype(np.float32)
    img = np.clip(img, 0, 255).astype(np.uint8)
    quality = int(rng.integers(*{"clean": (85, 95), "typical": (60, 90), "hard": (40, 75), "closeup": (60, 90),
                                 "register": (50, 85)}[condition]))
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _scene(rng, condition, size, paper=None):
    h, w = size
    paper_kind = paper or rng.choice(
        {"clean": ["white"], "typical": ["white", "ruled", "coloured", "white", "saturated"],
         "hard": ["squared", "ruled", "coloured", "white", "saturated"],
         "closeup": ["white", "coloured", "saturated", "ruled"], "register": ["register"]}[condition]
    )
    canvas = _paper(h, w, str(paper_kind), rng)
    ink_name = str(rng.choice(["black", "blue"] if condition == "clean" else list(INKS)))
    ink = np.array(INKS[ink_name], np.float32) + rng.normal(0, 8, 3).astype(np.float32)
    return canvas, ink, ink_name, str(paper_kind)


def _finish_photo(canvas, condition, rng, ink_box=None):
    """Light, frame and photograph the page; ``ink_box`` (x0, y0, x1, y1) is what the table must not hide."""
    h, w = canvas.shape[:2]
    canvas *= _lighting(h, w, condition, rng)
    if condition == "hard" and rng.random() < 0.5:
        # The page does not fill the frame: a dark table shows along one side (never over the writing).
        side = int(rng.integers(4))
        depth = int(rng.uniform(0.05, 0.15) * (w if side % 2 else h))
        if ink_box is not None:
            x0, y0, x1, y1 = ink_box
            room = (y0, w - x1, h - y1, x0)[side]
            depth = max(0, min(depth, room - 5))
        table = np.array(rng.uniform(30, 90, 3), np.float32)
        rows, cols = (slice(0, depth), slice(None)) if side == 0 else \
            (slice(None), slice(w - depth, w)) if side == 1 else \
            (slice(h - depth, h), slice(None)) if side == 2 else (slice(None), slice(0, depth))
        canvas[rows, cols] = table
    return _camera(canvas, condition, rng)


def _position(rng: np.random.Generator, low: float, high: float) -> int:
    return int(rng.uniform(low, high)) if high > low else max(0, int(low))


def photo_digit(digit28: np.ndarray, rng: np.random.Generator, condition: str = "typical",
                size: tuple[int, int] = (900, 1200), paper: str | None = None) -> np.ndarray:
    """One MNIST digit as a phone photo of pen on paper (RGB uint8); ``paper`` forces a paper kind
    (white, ruled, squared, coloured, saturated)."""
    h, w = size
    canvas, ink, _, _ = _scene(rng, condition, size, paper)
    frac = rng.uniform(*{"clean": (0.3, 0.55), "typical": (0.15, 0.45), "hard": (0.08, 0.3),
                         "closeup": (0.6, 0.9)}[condition])
    dh = int(frac * h)
    pen = {"hard": (0.03, 0.15), "closeup": (0.05, 0.18)}.get(condition, (0.04, 0.12))  # closeup: markers too
    pen = rng.uniform(*pen) * dh
    mask = pen_mask(digit28, dh, max(1.5, pen), rng)
    margin = {"clean": 0.15, "closeup": 0.02}.get(condition, 0.05)
    x = _position(rng, margin * w, (1 - margin) * w - mask.shape[1])
    y = _position(rng, margin * h, (1 - margin) * h - mask.shape[0])
    x, y = max(0, x), max(0, y)
    _compose(canvas, mask, x, y, ink, rng.uniform(0.75, 1.0))
    return _finish_photo(canvas, condition, rng, (x, y, x + mask.shape[1], y + mask.shape[0]))


def empty_photo(rng: np.random.Generator, condition: str = "typical", size: tuple[int, int] = (900, 1200)) -> np.ndarray:
    """A phone photo of the paper, light and camera ``photo_digit`` makes, with nothing written on it."""
    canvas, _, _, _ = _scene(rng, condition, size)
    return _finish_photo(canvas, condition, rng)


def register_digit(digit28: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One digit in a ruled cell of an old register, scanned: cell borders close by, perhaps a dot, a dark margin."""
    dh = int(rng.integers(28, 70))
    h, w = int(dh * rng.uniform(1.2, 1.8)), int(dh * rng.uniform(1.3, 2.6))
    canvas, _, _, _ = _scene(rng, "register", (h, w))
    ink = np.array((50, 40, 35), np.float32) + rng.normal(0, 10, 3).astype(np.float32)
    mask = pen_mask(digit28, dh, max(1.5, rng.uniform(0.06, 0.14) * dh), rng)
    x = int(rng.uniform(0.1 * w, max(0.1 * w + 1, w - mask.shape[1] - 0.15 * w)))
    y = int(rng.uniform(0.05 * h, max(0.05 * h + 1, h - mask.shape[0] - 0.05 * h)))
    _compose(canvas, mask, x, y, ink, rng.uniform(0.7, 1.0))
    border = np.array((90, 80, 70), np.float32)
    t = max(1, int(dh * rng.uniform(0.02, 0.06)))
    for side in range(4):  # the cell's ruling, each side present or not, a little off straight
        if rng.random() < 0.6:
            if side % 2 == 0:
                yy = int(rng.uniform(0, 0.05) * h) if side == 0 else h - 1 - int(rng.uniform(0, 0.05) * h)
                cv2.line(canvas, (0, yy), (w, yy + int(rng.integers(-2, 3))), border.tolist(), t)
            else:
                xx = int(rng.uniform(0, 0.08) * w) if side == 3 else w - 1 - int(rng.uniform(0, 0.08) * w)
                cv2.line(canvas, (xx, 0), (xx + int(rng.integers(-2, 3)), h), border.tolist(), t)
    if rng.random() < 0.4:  # the dot after a row number
        cv2.circle(canvas, (min(w - 2, x + mask.shape[1] + int(0.15 * dh)), y + int(0.9 * dh)), max(1, t),
                   ink.tolist(), -1)
    if rng.random() < 0.3:  # the page's dark edge
        depth = int(rng.uniform(0.03, 0.1) * w)
        canvas[:, :depth] = np.array(rng.uniform(20, 70, 3), np.float32)
    canvas *= _lighting(h, w, "register", rng)
    return _camera(canvas, "register", rng)


# Sketch styles: how people draw in a browser canvas besides a clean thin line.
SKETCH_STYLES = ("clean", "fat", "soft", "gap")


def sketch_digit(digit28: np.ndarray, rng: np.random.Generator, side: int = 600, transparent: bool = False,
                 brush: float | None = None, style: str = "clean") -> np.ndarray:
    """One MNIST digit drawn with a round brush on a browser canvas: RGB on white, or RGBA ink on transparent.

    Styles: "clean"; "fat" (a broad brush); "soft" (a blurred, airbrush-like line); "gap" (the
    digit drawn in strokes that do not touch: a piece of the line is left out).
    """
    frac = rng.uniform(0.3, 0.8)
    dh = int(frac * side)
    # A fat brush is fat for the digit drawn (a fifth of its height at most), not for the canvas.
    brush = brush or (rng.uniform(0.12, 0.2) * dh if style == "fat" else rng.uniform(0.035, 0.07) * side)
    mask = pen_mask(digit28, dh, brush, rng)
    if style == "gap":
        ys, xs = np.nonzero(mask > 0.5)
        k = int(rng.integers(len(ys)))
        cv2.circle(mask, (int(xs[k]), int(ys[k])), int(brush * rng.uniform(0.6, 1.0)), 0.0, -1)
    elif style == "soft":
        mask = cv2.GaussianBlur(mask, (0, 0), brush * rng.uniform(0.3, 0.7))
        mask = np.clip(mask / max(float(mask.max()), 1e-6), 0, 1)
    mh, mw = mask.shape
    if mw > side:
        mask = cv2.resize(mask, (side, int(mh * side / mw)))
        mh, mw = mask.shape
    x = int(rng.uniform(0, side - mw))
    y = int(rng.uniform(0, side - mh))
    alpha = np.zeros((side, side), np.float32)
    alpha[y:y + mh, x:x + mw] = mask
    if transparent:
        out = np.zeros((side, side, 4), np.uint8)
        out[..., 3] = (alpha * 255).astype(np.uint8)  # black ink, colour channels stay 0
        return out
    return np.repeat((255 * (1 - alpha)).astype(np.uint8)[..., None], 3, axis=2)


def photo_number(digits28: list[np.ndarray], values: list[int], rng: np.random.Generator, condition: str = "typical",
                 size: tuple[int, int] = (900, 1200), lines: int = 1, separators: bool = True):
    """Digits written in a row (or rows) as a phone photo. Returns (RGB image, label with lines joined by a space).

    Spacing varies from touching to wide; '.' ',' or '-' may stand between groups of digits.
    """
    h, w = size
    canvas, ink, _, _ = _scene(rng, condition, size)
    per_line = np.array_split(np.arange(len(digits28)), lines)
    dh = int(rng.uniform(0.12, 0.2) * h) if lines > 1 else int(rng.uniform(0.14, 0.28) * h)
    pen = max(2.0, rng.uniform(0.06, 0.11) * dh)
    opacity = rng.uniform(0.8, 1.0)
    labels = []
    y = int(rng.uniform(0.1, 0.2) * h)
    for idx in per_line:
        masks = [pen_mask(digits28[i], dh, pen, rng) for i in idx]
        gaps = [int(rng.uniform(-0.03, 0.45) * dh) for _ in idx]
        total = sum(m.shape[1] for m in masks) + sum(gaps)
        x = int(rng.uniform(0.05 * w, max(0.06 * w, w - total - 0.05 * w)))
        text = ""
        for k, (i, m) in enumerate(zip(idx, masks)):
            if x + m.shape[1] >= w:
                break
            _compose(canvas, m, x, y, ink, opacity)
            text += str(int(values[i]))
            x += m.shape[1] + gaps[k]
            if separators and k < len(idx) - 1 and rng.random() < 0.2:
                x += int(0.12 * dh)
                _draw_separator(canvas, x, y, dh, pen, ink, opacity, rng)
                x += int(0.25 * dh)
        labels.append(text)
        y += int(dh * rng.uniform(1.5, 1.9))
    return _finish_photo(canvas, condition, rng), " ".join(t for t in labels if t)


def _draw_separator(canvas, x, y, dh, pen, ink, opacity, rng):
    kind = rng.choice([".", ",", "-"])
    layer = np.zeros(canvas.shape[:2], np.float32)
    r = max(2, int(pen * 0.7))
    if kind == ".":
        cv2.circle(layer, (x, y + dh - r), r, 1.0, -1, cv2.LINE_AA)
    elif kind == ",":
        cv2.line(layer, (x, y + dh - r), (x - r, y + dh + 2 * r), 1.0, max(1, int(pen)), cv2.LINE_AA)
    else:
        cv2.line(layer, (x - r, y + dh // 2), (x + 2 * r, y + dh // 2), 1.0, max(1, int(pen)), cv2.LINE_AA)
    a = (layer * opacity)[..., None]
    canvas[:] = canvas * (1 - a) + ink * a


def digit_set(x: np.ndarray, y: np.ndarray, n: int, seed: int, kind: str, condition: str = "typical"):
    """``n`` simulated images from MNIST test digits.

    kind 'photo' (condition clean, typical, hard or closeup), 'register' (a scanned register
    cell), 'sketch' or 'sketch-transparent' (condition 'clean', or 'varied': fat, soft and gappy
    strokes too), 'empty' (photos with nothing written, each in one of the photo conditions at random,
    labelled None).
    """
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x), n, replace=False)
    images = []
    for i in picks:
        if kind == "photo":
            images.append(photo_digit(x[i], rng, condition))
        elif kind == "empty":
            images.append(empty_photo(rng, str(rng.choice(["clean", "typical", "hard", "closeup"]))))
        elif kind == "register":
            images.append(register_digit(x[i], rng))
        else:
            style = str(rng.choice(SKETCH_STYLES)) if condition == "varied" else "clean"
            images.append(sketch_digit(x[i], rng, transparent=(kind == "sketch-transparent"), style=style))
    return images, [None if kind == "empty" else int(y[i]) for i in picks]


def number_set(x: np.ndarray, y: np.ndarray, n: int, seed: int, condition: str = "typical"):
    """``n`` photos of 2-6-digit numbers (some in two lines); labels join lines with a space."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n):
        count = int(rng.integers(2, 7))
        lines = 2 if count >= 4 and rng.random() < 0.2 else 1
        picks = rng.choice(len(x), count, replace=False)
        image, label = photo_number([x[i] for i in picks], [int(y[i]) for i in picks], rng, condition, lines=lines)
        images.append(image)
        labels.append(label)
    return images, labels


def shadowed_digit(digit28: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (900, 1200)) -> np.ndarray:
    """A small digit right beside the sharp edge of a hard shadow (a phone held under a lamp)."""
    h, w = size
    canvas, ink, _, _ = _scene(rng, "typical", size, "white")
    dh = int(rng.uniform(0.08, 0.14) * h)
    mask = pen_mask(digit28, dh, max(1.5, rng.uniform(0.06, 0.1) * dh), rng)
    x, y = int(rng.uniform(0.4, 0.55) * w), int(rng.uniform(0.35, 0.55) * h)
    _compose(canvas, mask, x, y, ink, 1.0)
    edge = x - int(rng.uniform(0.02, 0.06) * w)  # the shadow ends just left of the digit, slightly slanted
    tilt = int(rng.uniform(-0.1, 0.1) * w)
    shadow = np.zeros((h, w), np.float32)
    cv2.fillConvexPoly(shadow, np.array([[0, 0], [edge + tilt, 0], [edge - tilt, h], [0, h]], np.int32), 1.0)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 1.5)
    canvas *= (1.0 - rng.uniform(0.4, 0.6) * shadow)[..., None]
    return _camera(canvas, "typical", rng)


def shadow_across_digit(digit28: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (900, 1200)) -> np.ndarray:
    """A close-up in ballpoint with a broad shadow across it: the far side keeps only 22-32% of the light."""
    h, w = size
    photo = photo_digit(digit28, rng, "closeup", size, paper="white").astype(np.float32)
    photo = 240 + (photo - 240) * 0.6  # ballpoint: lighter than a marker
    darkest = rng.uniform(0.22, 0.32)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    along = (np.cos(angle) * (xx - w / 2) + np.sin(angle) * (yy - h / 2)) / (0.5 * max(h, w))
    light = darkest + (1 - darkest) * np.clip((along + 1) / 2, 0, 1)  # full light on one side, darkest on the other
    return np.clip(photo * light[..., None], 0, 255).astype(np.uint8)


def faint_digit(digit28: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (900, 1200)) -> np.ndarray:
    """A pencil digit photographed in dim light: the ink only 16-32 grey levels darker than the paper."""
    photo = photo_digit(digit28, rng, "clean", size, paper="white").astype(np.float32)
    paper_level = rng.uniform(110, 200)
    contrast = rng.uniform(0.08, 0.16)  # of a clean photo's ~200 levels between paper and ink
    faint = paper_level + (photo - 244) * contrast + rng.normal(0, 2, photo.shape)
    return np.clip(faint, 0, 255).astype(np.uint8)


def uneven_pencil_digit(digit28: np.ndarray, rng: np.random.Generator, weakest: float = 0.4,
                        size: tuple[int, int] = (600, 800)) -> np.ndarray:
    """A pencil digit in dim light, pressed harder at one side: its ink fades across the digit, from
    ~40 grey levels below the paper to ``weakest`` of that (a 7's bar fainter than its stem)."""
    photo = photo_digit(digit28, rng, "clean", size, paper="white").astype(np.float32)
    columns = np.flatnonzero((photo.min(axis=2) < 150).any(axis=0))
    across = np.clip((np.arange(size[1]) - columns[0]) / max(1, columns[-1] - columns[0]), 0, 1)
    if rng.random() < 0.5:
        across = across[::-1]
    pressure = (weakest + (1 - weakest) * across)[None, :, None]
    paper_level = rng.uniform(120, 190)
    faint = paper_level + (photo - 244) * 0.2 * pressure + rng.normal(0, 2, photo.shape)
    return np.clip(faint, 0, 255).astype(np.uint8)


def two_stroke_five(side: int = 560, gap: float = 0.08, transparent: bool = True) -> np.ndarray:
    """A 5 drawn as people do in a browser: the body, then the flag as a second stroke that does not touch it."""
    ink = np.zeros((side, side), np.uint8)
    s = side / 560
    pen = max(2, int(24 * s))
    top, left = int(130 * s), int(200 * s)
    cv2.line(ink, (left + int(gap * side) + int(10 * s), top), (int(390 * s), top), 255, pen, cv2.LINE_AA)  # the flag
    cv2.line(ink, (left, top + int(gap * side)), (left, int(270 * s)), 255, pen, cv2.LINE_AA)  # the stem
    cv2.ellipse(ink, (int(280 * s), int(340 * s)), (int(95 * s), int(85 * s)), 0, 215, 500, 255, pen, cv2.LINE_AA)
    if transparent:
        out = np.zeros((side, side, 4), np.uint8)
        out[..., 3] = ink
        return out
    return np.repeat((255 - ink)[..., None], 3, axis=2)


# --- number pages: register rows, cheque amounts, numbers on ruled or coloured paper -----------


# A handwritten slash leans further from vertical than a leaning 1 (which rarely passes 35 degrees).
SLASH_LEAN_DEGREES = 45


def _separator_mark(canvas, kind: str, x: int, y: int, dh: int, pen: float, ink, opacity: float) -> int:
    """Draw one separator (. , - /) at x on a digit row starting at y; returns the width it takes."""
    layer = np.zeros(canvas.shape[:2], np.float32)
    r = max(2, int(pen * 0.7))
    thick = max(1, int(pen))
    if kind == ".":
        cv2.circle(layer, (x + r, y + dh - r), r, 1.0, -1, cv2.LINE_AA)
        width = 2 * r
    elif kind == ",":
        cv2.line(layer, (x + r, y + dh - r), (x, y + dh + 2 * r), 1.0, thick, cv2.LINE_AA)
        width = 2 * r
    elif kind == "-":
        cv2.line(layer, (x, y + dh // 2), (x + int(0.35 * dh), y + dh // 2), 1.0, thick, cv2.LINE_AA)
        width = int(0.35 * dh)
    else:  # "/"
        width = int(np.tan(np.radians(SLASH_LEAN_DEGREES)) * dh)
        cv2.line(layer, (x, y + dh), (x + width, y), 1.0, thick, cv2.LINE_AA)
    a = (layer * opacity)[..., None]
    canvas[:] = canvas * (1 - a) + ink * a
    return width + thick


def _write_row(canvas, digits28, text: str, x: int, y: int, dh: int, pen: float, ink, opacity, rng, gap=(0.05, 0.3)):
    """Write ``text`` (digits and . , - /) left to right from (x, y); digits come from ``digits28`` in order."""
    k = 0
    for ch in text:
        if ch.isdigit():
            m = pen_mask(digits28[k], dh, pen, rng)
            k += 1
            _compose(canvas, m, x, y, ink, opacity)
            x += m.shape[1] + int(rng.uniform(*gap) * dh)
        else:
            x += int(0.08 * dh)
            x += _separator_mark(canvas, ch, x, y, dh, pen, ink, opacity) + int(0.12 * dh)
    return x


def register_row(digits28: list[np.ndarray], values: list[int], rng: np.random.Generator):
    """A row number written in a ruled register cell, scanned: cell borders, perhaps a dot and an underline,
    a dark page margin on the left, faint ruling. Returns (RGB image, label)."""
    dh = int(rng.integers(16, 40))
    count = len(values)
    h, w = int(dh * rng.uniform(5, 8)), int(dh * (0.9 * count + rng.uniform(2.5, 4.5)))
    canvas, _, _, _ = _scene(rng, "register", (h, w))
    for yy in range(int(rng.integers(0, dh)), h, int(dh * rng.uniform(0.9, 1.3))):  # faint ruling
        cv2.line(canvas, (0, yy), (w, yy), (205, 200, 190), 1)
    ink = np.array((50, 40, 35), np.float32) + rng.normal(0, 10, 3).astype(np.float32)
    margin = int(rng.uniform(0.15, 0.3) * w) if rng.random() < 0.8 else 0
    x = margin + int(rng.uniform(0.15, 0.3) * w)
    y = int(rng.uniform(0.25, 0.55) * h)
    pen = max(1.2, rng.uniform(0.06, 0.12) * dh)
    end = _write_row(canvas, digits28, "".join(str(v) for v in values), x, y, dh, pen, ink, rng.uniform(0.7, 1.0), rng)
    if rng.random() < 0.5:
        cv2.circle(canvas, (min(w - 3, end + int(0.1 * dh)), y + dh - 2), max(1, int(pen / 2)), ink.tolist(), -1)
    if rng.random() < 0.6:  # the underline people drew under the number
        yy = y + dh + int(rng.uniform(0.2, 0.5) * dh)
        cv2.line(canvas, (x - int(0.2 * dh), yy), (end, yy + int(rng.integers(-3, 4))), ink.tolist(), max(1, int(pen * 0.7)))
    border = np.array((90, 80, 70), np.float32)
    for xx in (margin + int(rng.uniform(0.02, 0.08) * w), w - 1 - int(rng.uniform(0, 0.08) * w)):
        if rng.random() < 0.7:
            cv2.line(canvas, (xx, 0), (xx + int(rng.integers(-2, 3)), h), border.tolist(), max(1, dh // 20))
    if margin:
        canvas[:, :margin] = np.array(rng.uniform(15, 60, 3), np.float32)
    canvas *= _lighting(h, w, "register", rng)
    return _camera(canvas, "register", rng), "".join(str(v) for v in values)


def cheque_amount(digits28: list[np.ndarray], values: list[int], rng: np.random.Generator):
    """A courtesy amount on a cheque: a printed box on patterned paper, thousands dots, perhaps a currency
    mark before and a dash after, digits often touching. Returns (RGB image, label without separators)."""
    digits = "".join(str(v) for v in values)
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    text = "." .join(groups) if rng.random() < 0.6 else "".join(groups)
    dh = int(rng.integers(30, 60))
    h, w = int(dh * rng.uniform(1.5, 2.1)), int(dh * (0.8 * len(values) + rng.uniform(1.5, 3.0)))
    canvas = np.empty((h, w, 3), np.float32)
    canvas[:] = np.array((228, 230, 225), np.float32) + rng.normal(0, 6, 3).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period, angle = rng.uniform(4, 9), rng.uniform(0, np.pi)
    pattern = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)  # guilloche-like texture
    canvas -= (rng.uniform(8, 25) * (pattern > 0.6))[..., None]
    box = np.array((120, 120, 130), np.float32)
    cv2.rectangle(canvas, (2, 2), (w - 3, h - 3), box.tolist(), max(1, dh // 25))
    ink = np.array(INKS[str(rng.choice(["black", "blue"]))], np.float32) + rng.normal(0, 8, 3).astype(np.float32)
    pen = max(1.5, rng.uniform(0.05, 0.1) * dh)
    x = int(rng.uniform(0.25, 0.5) * dh)
    if rng.random() < 0.3:  # a currency mark: $ written as an S with a bar
        t, r, cy = max(1, int(pen)), int(0.18 * dh), int(rng.uniform(0.15, 0.3) * h) + dh // 2
        cv2.ellipse(canvas, (x + r, cy - r), (r, r), 0, 0, 270, ink.tolist(), t)
        cv2.ellipse(canvas, (x + r, cy + r), (r, r), 0, 180, 450, ink.tolist(), t)
        cv2.line(canvas, (x + r, cy - 3 * r), (x + r, cy + 3 * r), ink.tolist(), t)
        x += int(0.7 * dh)
    y = int(rng.uniform(0.15, 0.3) * h)
    end = _write_row(canvas, digits28, text, x, y, dh, pen, ink, rng.uniform(0.8, 1.0), rng, gap=(-0.06, 0.15))
    if rng.random() < 0.3 and end < w - 0.4 * dh:
        _separator_mark(canvas, "-", end + int(0.1 * dh), y, dh, pen, ink, 1.0)
    return _camera(canvas, "clean", rng), "".join(str(v) for v in values)


def number_page_set(x: np.ndarray, y: np.ndarray, n: int, seed: int, kind: str):
    """``n`` simulated number images of one kind: "register" rows (2-3 digits), "cheque" amounts (2-6 digits),
    or phone photos on "ruled", "squared", "coloured" or "saturated" paper (2-6 digits). Labels are digits only."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n):
        count = int(rng.integers(2, 4)) if kind == "register" else int(rng.integers(2, 7))
        picks = rng.choice(len(x), count, replace=False)
        digits, values = [x[i] for i in picks], [int(y[i]) for i in picks]
        if kind == "register":
            image, label = register_row(digits, values, rng)
        elif kind == "cheque":
            image, label = cheque_amount(digits, values, rng)
        else:
            image, label = paper_number(digits, values, rng, kind)
        images.append(image)
        labels.append(label)
    return images, labels


def paper_number(digits28: list[np.ndarray], values: list[int], rng: np.random.Generator, paper: str,
                 size: tuple[int, int] = (900, 1200)):
    """One number photographed on the given paper (ruled, squared, coloured, saturated), typical light."""
    h, w = size
    canvas, ink, _, _ = _scene(rng, "typical", size, paper)
    dh = int(rng.uniform(0.12, 0.25) * h)
    pen = max(2.0, rng.uniform(0.06, 0.11) * dh)
    masks = [pen_mask(d, dh, pen, rng) for d in digits28]
    gaps = [int(rng.uniform(-0.03, 0.4) * dh) for _ in masks]
    total = sum(m.shape[1] for m in masks) + sum(gaps)
    x = int(rng.uniform(0.05 * w, max(0.06 * w, w - total - 0.05 * w)))
    y = int(rng.uniform(0.15, 0.6) * h)
    text = ""
    for m, g, v in zip(masks, gaps, values):
        if x + m.shape[1] >= w:
            break
        _compose(canvas, m, x, y, ink, 0.9)
        text += str(v)
        x += m.shape[1] + g
    return _finish_photo(canvas, "typical", rng), text

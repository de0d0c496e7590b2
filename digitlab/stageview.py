"""The app's pictures as HTML fragments with inline (data URL) images.

One fragment per update travels inside the response: no image files are written, hashed or
fetched one by one. A 28x28 stage is sent at 28x28 and enlarged by the browser with
``image-rendering: pixelated``; bigger stages are sent as thumbnails sized for display.
"""

from __future__ import annotations

import base64
from html import escape

import cv2
import numpy as np

from .visual import NOT_REACHED, SWITCHED_OFF, stage_caption, stage_state

THUMBNAIL_SIDE = 240  # a stage tile is shown at most ~230 CSS px wide
PICTURE_SIDE = 720  # whole photos (numbers with their boxes) are shown up to the page's width
SMALL_SIDE = 64  # up to this size a picture is sent as is and enlarged by CSS, pixel by pixel
JPEG_QUALITY = 80  # photo thumbnails: small, and the artefacts are invisible at tile size

CSS = """
.stage-gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(112px, 1fr)); gap: 8px; }
.stage-gallery figure { margin: 0; display: flex; flex-direction: column; gap: 4px; }
.stage-gallery img { width: 100%; aspect-ratio: 1; object-fit: contain; background: #606060; border-radius: 4px; }
.stage-gallery img.pixels { image-rendering: pixelated; }
.stage-gallery figcaption { font-size: 0.85em; line-height: 1.25; }
.stage-gallery figure.off img, .stage-gallery figure.unreached img { opacity: 0.45; }
.alternatives { border-collapse: collapse; font-size: 0.9em; }
.alternatives td, .alternatives th { padding: 2px 8px; text-align: left; }
.alternatives tr.chosen { font-weight: bold; }
.number-picture img { max-width: 100%; height: auto; }
.number-digits summary { cursor: pointer; }
.number-digits summary img { width: 56px; vertical-align: middle; image-rendering: pixelated; }
"""


def _as_rgb_or_gray(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    return image


def data_url(image: np.ndarray, max_side: int = THUMBNAIL_SIDE) -> tuple[str, bool]:
    """(data URL, sent at its own small size) for an RGB or grey uint8/float picture.

    Small pictures and black-and-white masks go as PNG (exact, and tiny), photos as JPEG.
    """
    image = _as_rgb_or_gray(image)
    h, w = image.shape[:2]
    small = max(h, w) <= SMALL_SIDE
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    binary = image.ndim == 2 and not np.any((image > 0) & (image < 255))
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    if small or binary:
        ok, data = cv2.imencode(".png", image)
        kind = "png"
    else:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        kind = "jpeg"
    return f"data:image/{kind};base64,{base64.b64encode(data.tobytes()).decode('ascii')}", small


def _img(image: np.ndarray | None, alt: str, max_side: int = THUMBNAIL_SIDE) -> str:
    if image is None:  # a stage that was not reached has no picture: a grey square
        image = np.full((1, 1), 96, np.uint8)
    url, small = data_url(image, max_side)
    return f'<img src="{url}" alt="{escape(alt)}"{" class=pixels" if small else ""}>'


def _figure(image, alt: str, caption: str, css: str = "", title: str = "") -> str:
    return (f'<figure class="{css}" title="{escape(title)}">{_img(image, alt)}'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def stage_gallery(stages) -> str:
    """Every stage's picture with its caption ('Title: 7 (98%)', 'switched off', 'not reached')."""
    tiles = []
    for s in stages:
        state = stage_state(s)
        css = {SWITCHED_OFF: "off", NOT_REACHED: "unreached"}.get(state, "")
        tiles.append(_figure(s.image, s.stage.title, stage_caption(s), css, s.stage.explanation))
    return f'<div class="stage-gallery">{"".join(tiles)}</div>'


def captioned(pictures) -> str:
    """(picture, caption) pairs as a gallery like the stages'."""
    return f'<div class="stage-gallery">{"".join(_figure(p, c, c) for p, c in pictures)}</div>' if pictures else ""


def alternatives_table(alternatives) -> str:
    """The readings the pipeline weighed before choosing one (empty when there were none)."""
    if not alternatives:
        return ""
    rows = []
    for a in alternatives:
        digit = f"- ({getattr(a, 'reason', None) or 'no digit'})" if a.digit is None else f"{a.digit} ({a.confidence:.0%})"
        verdict = "kept" if a.chosen else "rejected"
        rows.append(f'<tr class="{"chosen" if a.chosen else ""}"><td>{escape(str(a.label))}</td><td>{digit}</td>'
                    f"<td>{a.verifier:.0%}</td><td>{verdict}</td></tr>")
    return ('<table class="alternatives"><caption>Alternatives considered</caption>'
            "<tr><th>reading</th><th>model says</th><th>looks like a digit</th><th></th></tr>"
            + "".join(rows) + "</table>")


def picture(image: np.ndarray, alt: str) -> str:
    """One whole picture (a photo with boxes drawn on it), sized for the page."""
    return f'<div class="number-picture">{_img(image, alt, PICTURE_SIDE)}</div>'


def number_digits(digits) -> str:
    """Each digit of a number as the model sees it; opening one shows its stages."""
    parts = []
    for d in digits:
        final = d.stages[-1].image
        parts.append(f"<details><summary>{_img(final, str(d.digit))} <b>{d.digit}</b> ({d.confidence:.0%})</summary>"
                     f"{stage_gallery(d.stages)}</details>")
    return f'<div class="number-digits">{"".join(parts)}</div>'

"""The app's pictures as HTML fragments with inline (data URL) images.

One fragment per update travels inside the response: no image files are written, hashed or
fetched one by one. A 28x28 stage is sent at 28x28 and enlarged by the browser with
``image-rendering: pixelated``; bigger stages are sent as thumbnails sized for display.
"""

from __future__ import annotations

import base64
import uuid
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
.left-out { font-size: 0.85em; opacity: 0.8; margin: 4px 0 0 0; }
.number-picture img { max-width: 100%; height: auto; }
.number-digits summary { cursor: pointer; }
.number-digits summary img { width: 56px; vertical-align: middle; image-rendering: pixelated; }
.model-views { display: flex; flex-direction: column; gap: 14px; }
.model-views h4 { margin: 0 0 2px 0; }
.model-views p.why { margin: 0 0 6px 0; font-size: 0.85em; opacity: 0.8; }
.model-views img { image-rendering: pixelated; background: #606060; border-radius: 3px; width: 100%; aspect-ratio: 1; }
.model-views figure { margin: 0; display: flex; flex-direction: column; gap: 2px; }
.model-views figcaption { font-size: 0.8em; line-height: 1.2; }
.mv-maps { display: grid; grid-template-columns: repeat(2, minmax(100px, 168px)); gap: 10px; }
.mv-why-maps figure { display: none; }
.mv-picker input { position: absolute; opacity: 0; pointer-events: none; }
.mv-choices { display: flex; flex-wrap: wrap; gap: 3px; margin: 4px 0; }
.mv-choices label { cursor: pointer; padding: 1px 8px; border: 1px solid #999; border-radius: 4px; font-size: 0.85em; }
.mv-neighbours { display: grid; grid-template-columns: repeat(auto-fill, minmax(56px, 1fr)); gap: 6px; max-width: 720px; }
.mv-neighbours figure.mean { border-right: 2px dashed #999; padding-right: 6px; }
.mv-neighbours figure.other figcaption { color: #c03030; font-weight: bold; }
.mv-softmax { display: grid; grid-template-columns: auto repeat(10, minmax(36px, 64px)); gap: 4px 6px;
  align-items: center; font-size: 0.8em; max-width: 760px; }
.mv-softmax .top { font-weight: bold; color: #c03030; }
"""
# One rule per class: the checked "why not" radio shows its map and marks its label.
CSS += "".join(f".mv-picker input.c{d}:checked ~ .mv-maps .mv-why-maps figure.c{d} {{ display: flex; }}\n"
               f".mv-picker input.c{d}:checked ~ .mv-choices label.c{d} {{ background: #3060d0; color: white; }}\n"
               for d in range(10))


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


def alternatives_table(alternatives, left_out=None) -> str:
    """The readings the pipeline weighed before choosing one (empty when there were none), and why others were
    not carried to the end (``pipeline.LeftOut``), if any were left out."""
    if not alternatives:
        return ""
    rows = []
    for a in alternatives:
        digit = f"- ({getattr(a, 'reason', None) or 'no digit'})" if a.digit is None else f"{a.digit} ({a.confidence:.0%})"
        rows.append(f'<tr class="{"chosen" if a.chosen else ""}"><td>{escape(str(a.label))}</td><td>{digit}</td>'
                    f"<td>{a.verifier:.0%}</td><td>{escape(a.verdict)}</td></tr>")
    return ('<table class="alternatives"><caption>Alternatives considered</caption>'
            "<tr><th>reading</th><th>model says</th><th>looks like a digit</th><th></th></tr>"
            + "".join(rows) + "</table>"
            + (f'<p class="left-out">{escape(left_out.describe())}</p>' if left_out is not None else ""))


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



def _small_figure(image: np.ndarray, caption: str, css: str = "", title: str = "") -> str:
    """A 28x28 picture sent as is (the browser enlarges it pixel by pixel) with its caption."""
    return (f'<figure class="{css}" title="{escape(title)}">{_img(image, caption)}'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _evidence_section(views) -> str:
    """The top class's evidence map beside a "why not d?" map; a radio per class picks d in the browser
    (all ten maps come from one model batch and travel in the answer, so picking costs no request)."""
    from .model_views import evidence_picture

    maps, top = views.maps, views.digit
    default = views.why_not.digit if views.why_not is not None else views.runner_up
    group = f"why-not-{uuid.uuid4().hex[:10]}"  # the Draw and Photo tabs are on one page
    radios = "".join(f'<input type="radio" name="{group}" id="{group}-{d}" class="c{d}" value="{d}"'
                     f'{" checked" if d == default else ""}>' for d in range(10))
    labels = "".join(f'<label for="{group}-{d}" class="c{d}">{d}</label>' for d in range(10))
    logits_word = "occlusion: how far its logit falls when the ink there is covered" if maps.method == "occlusion" \
        else "gradient x input of its logit"

    def figure(d: int, css: str) -> str:
        caption = f"{'Why' if d == top else 'Why not'} {d}? ({maps.probabilities[d]:.0%})"
        return _small_figure(evidence_picture(maps.image, maps.maps[d], side=28), caption, css,
                             f"class {d}, {logits_word}")

    return ('<section class="mv-evidence"><h4>What the model looks at</h4>'
            f'<p class="why">Red ink argues for the class, blue against it ({escape(logits_word)}; '
            f'model <code>{escape(views.model)}</code>). Pick a class to ask "why not?".</p>'
            f'<div class="mv-picker">{radios}<div class="mv-choices">Why not {labels}</div>'
            f'<div class="mv-maps">{figure(top, "top")}'
            f'<div class="mv-why-maps">{"".join(figure(d, f"c{d}") for d in range(10))}</div></div></div></section>')


def _neighbours_section(views) -> str:
    found = views.neighbours
    head = '<section class="mv-among"><h4>Your digit among MNIST</h4>'
    if found is None:
        return head + f'<p class="why">{escape(views.neighbours_note or "no MNIST index")}</p></section>'
    tiles = [_small_figure(views.maps.image, "yours"),
             _small_figure(found.class_mean, f"mean {found.predicted}", "mean",
                           f"the mean of every MNIST training {found.predicted}")]
    tiles += [_small_figure(image, f"{label} ({similarity:.2f})", "" if label == found.predicted else "other",
                            f"MNIST training digit #{index}, labelled {label}")
              for image, label, similarity, index in zip(found.images, found.labels, found.similarities,
                                                         found.train_indices)]
    return (head + f'<p class="why">The {len(found.labels)} MNIST training digits the CNN finds most like yours '
            f"(cosine similarity of its last hidden layer), after the mean MNIST {found.predicted}; "
            f"{found.agreement:.0%} of them are {found.predicted}s.</p>"
            f'<div class="mv-neighbours">{"".join(tiles)}</div></section>')


def _softmax_section(views) -> str:
    from .model_views import diverging_colors

    soft = views.softmax
    weight_scale = float(np.max(np.abs(soft.weights))) or 1.0
    contribution_scale = float(np.max(np.abs(soft.contributions))) or 1.0
    top = soft.digit

    def cells(values, scale, what):
        return "".join(_img(diverging_colors(v, scale), f"{what} {d}") for d, v in enumerate(values))

    header = "".join(f'<span class="{"top" if d == top else ""}">{d}</span>' for d in range(10))
    scores = "".join(f'<span class="{"top" if d == top else ""}">{s:+.1f}</span>' for d, s in enumerate(soft.scores))
    return ('<section class="mv-opened"><h4>The article\'s softmax model, opened</h4>'
            '<p class="why">Each class\'s score is the sum of weight x pixel plus a bias; the highest score wins '
            f"(here {top}, {soft.probabilities[top]:.0%}). A linear model has one template per class, "
            "so moving the digit moves its ink onto other weights.</p>"
            f'<div class="mv-softmax"><span></span>{header}'
            f"<span>weights</span>{cells(soft.weights, weight_scale, 'weights of')}"
            f"<span>weight x your pixels</span>{cells(soft.contributions, contribution_scale, 'contribution to')}"
            f"<span>score</span>{scores}</div></section>")


def model_views(views) -> str:
    """The model views of one input (``model_views.ModelViews``): evidence maps with a "why not" picker,
    the nearest MNIST digits with the class mean, and the softmax model's weights and scores."""
    return (f'<div class="model-views" data-digit="{views.digit}">'
            f"{_evidence_section(views)}{_neighbours_section(views)}{_softmax_section(views)}</div>")

"""Pictures for people: stage images at a viewable size, stage sheets, boxes on numbers."""

from __future__ import annotations

import cv2
import numpy as np

DISPLAY_SIDE = 280  # 28x28 images are shown 10x, nearest-neighbour, so every pixel stays visible
MAX_DISPLAY_SIDE = 640


def display_image(image: np.ndarray | None) -> np.ndarray:
    """An RGB uint8 picture of a stage output: small images enlarged with nearest-neighbour, large ones shrunk."""
    if image is None:
        return np.full((DISPLAY_SIDE, DISPLAY_SIDE, 3), 96, np.uint8)
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    h, w = image.shape[:2]
    if max(h, w) <= 64:
        scale = DISPLAY_SIDE // max(h, w)
        image = cv2.resize(image, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST)
    elif max(h, w) > MAX_DISPLAY_SIDE:
        scale = MAX_DISPLAY_SIDE / max(h, w)
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image)


SWITCHED_OFF = "switched off"
NOT_REACHED = "not reached"


def stage_state(stage_result) -> str:
    """What the model says at a stage ('7 (98%)'), or why it says nothing; the one wording the
    app's pictures and table and the CLI's explain all use."""
    s = stage_result
    if s.skipped:
        return SWITCHED_OFF
    if s.probabilities is None:
        return NOT_REACHED
    return f"{s.digit} ({s.confidence:.0%})"


def stage_caption(stage_result) -> str:
    """'Title: 7 (98%)' — or why there is no prediction at this stage."""
    return f"{stage_result.stage.title}: {stage_state(stage_result)}"


def stage_sheet(result, tile: int = 200) -> np.ndarray:
    """All stages side by side with their captions (BGR, for cv2.imwrite)."""
    tiles = []
    for s in result.stages:
        pic = display_image(s.image)
        h, w = pic.shape[:2]
        scale = tile / max(h, w)
        interp = cv2.INTER_NEAREST if max(h, w) <= DISPLAY_SIDE else cv2.INTER_AREA
        pic = cv2.resize(pic, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=interp)
        canvas = np.full((tile + 24, tile, 3), 255, np.uint8)
        canvas[24:24 + pic.shape[0], :pic.shape[1]] = pic
        cv2.putText(canvas, stage_caption(s)[:34], (2, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
        tiles.append(np.pad(canvas, ((2, 2), (2, 2), (0, 0)), constant_values=200))
    sheet = np.concatenate(tiles, axis=1)
    return cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)


def draw_readings(image: np.ndarray, digits) -> np.ndarray:
    """The image with a box and the digit drawn on each candidate (RGB)."""
    from .imageio import as_image_array
    from .photo_stages import flatten_transparency

    canvas = flatten_transparency(as_image_array(image)).copy()
    thickness = max(2, max(canvas.shape[:2]) // 400)
    font = max(0.6, max(canvas.shape[:2]) / 900)
    for d in digits:
        x, y, w, h = d.box
        color = (220, 30, 30) if d.confidence >= 0.8 else (230, 140, 0)
        cv2.rectangle(canvas, (x, y), (x + w, y + h), color, thickness)
        cv2.putText(canvas, str(d.digit), (x, max(0, y - 4 * thickness)), cv2.FONT_HERSHEY_SIMPLEX, font,
                    color, thickness, cv2.LINE_AA)
    return canvas


def _captioned(picture: np.ndarray, caption: str, side: int) -> np.ndarray:
    """An RGB picture scaled to ``side`` pixels high, under a one-line caption, framed like a stage tile."""
    h, w = picture.shape[:2]
    width = max(1, round(w * side / h))
    pic = cv2.resize(picture, (width, side), interpolation=cv2.INTER_NEAREST)
    canvas = np.full((side + 24, max(width, 8 * len(caption)), 3), 255, np.uint8)
    canvas[24:, :width] = pic
    cv2.putText(canvas, caption, (2, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    return np.pad(canvas, ((2, 2), (2, 2), (0, 0)), constant_values=200)


def _row(tiles: list[np.ndarray]) -> np.ndarray:
    height = max(t.shape[0] for t in tiles)
    return np.concatenate([np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0)), constant_values=255) for t in tiles], 1)


def model_views_sheet(result, views, tile: int = 200) -> np.ndarray:
    """The stage sheet with the model views below it (BGR, for cv2.imwrite): the evidence maps,
    the nearest MNIST digits, and the softmax model's weight x pixel per class with its scores."""
    rows = [cv2.cvtColor(stage_sheet(result, tile), cv2.COLOR_BGR2RGB)]
    maps = [views.evidence] + ([views.why_not] if views.why_not is not None else [])
    tiles = [
        _captioned(e.picture, f"{'Why' if e is views.evidence else 'Why not'} {e.digit}? {e.method} "
                              f"({e.probability:.0%})", tile)
        for e in maps
    ]
    if views.neighbours is not None:
        tiles.append(_captioned(views.neighbours.picture, "Yours, the mean MNIST "
                                f"{views.neighbours.predicted}, and the nearest MNIST training digits (CNN)", tile))
    else:
        tiles.append(_captioned(np.full((28, 28, 3), 96, np.uint8), views.neighbours_note[:60], tile))
    rows.append(_row(tiles))
    soft = views.softmax
    rows.append(_row([
        _captioned(picture, f"{d}: {score:+.1f}{' <' if d == soft.digit else ''}", tile // 2)
        for d, (picture, score) in enumerate(zip(soft.contribution_pictures, soft.scores))
    ] + [_captioned(np.full((28, 4, 3), 255, np.uint8), "softmax model: weight x pixel, summed + bias", tile // 2)]))
    width = max(r.shape[1] for r in rows)
    sheet = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])
    return cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)

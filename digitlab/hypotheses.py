"""Hypotheses through the stages: each decision stage branches, and every path is carried to the end.

A stage is a pure function with a title and a one-line explanation; a decision stage also offers
alternatives to its rule's choice. ``explore`` runs a list of stages, branching at decisions, and
returns every path (``Hypothesis``) with its outputs, its choices and its prior; the pipeline's
``recognize`` lets the models weigh them.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import photo_stages as ps
from .errors import NoDigit

# At most this many hypotheses are carried to the end (2 greys on coloured paper x 2 polarities x 2
# lightings x 2 contrasts for faint ink x 2 line treatments x up to 5 mark choices, the least likely
# dropped first); each costs one more 28x28 image in the models' batch.
MAX_HYPOTHESES = 40

# Paths through pictures of at least this many values are worked on in parallel: any photo at the working size
# (1280x960: 3.7M in colour, 1.2M in grey), not a 600x600 sketch (0.36M), where handing over costs more than it saves.
PARALLEL_PATHS_FROM = 500_000
_POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="digitlab-paths")


@dataclass(frozen=True)
class Stage:
    """One named step: a pure function image -> image, with a title and a one-sentence explanation."""

    name: str
    title: str
    explanation: str
    func: Callable[[np.ndarray], np.ndarray]
    can_skip: bool = True
    # A decision stage: (image, source) -> [(what was decided, output[, prior])], the rule's choice first
    # (source is SOURCE_DRAWING, SOURCE_CANVAS or SOURCE_PHOTO); an option's own prior, where given,
    # replaces the stage's (a rule that knows it is unsure says so).
    options: Callable[[np.ndarray, str], list[tuple[str, np.ndarray]]] | None = None
    overturn_prior: float = 1.0  # a decision stage: the prior factor for choosing other than the rule
    # A fallback decision offers its alternatives only when the others found no convincing digit.
    fallback: bool = False
    # Further options offered only then (same form as ``options``, after them).
    fallback_options: Callable[[np.ndarray, str], list[tuple[str, np.ndarray]]] | None = None


@dataclass
class Hypothesis:
    """One way through the stages: each stage's output, and what each decision stage chose."""

    trail: list[tuple[Stage, np.ndarray | None, bool]] = field(default_factory=list)  # (stage, output, skipped)
    choices: dict[str, str] = field(default_factory=dict)  # stage name -> the alternative taken
    reason: str | None = None  # why this path found no digit
    overturned: tuple[str, ...] = ()  # the decision stages where this path took other than the rule's choice
    log_prior: float = 0.0  # log of the prior of the choices taken (0: the rules' path)

    @property
    def output(self) -> np.ndarray | None:
        return self.trail[-1][1] if self.trail and self.reason is None else None

    @property
    def label(self) -> str:
        return "; ".join(self.choices.values()) or "the only path"

    def then(self, stage: Stage, image, skipped=False, choice=None, reason=None, prior=1.0) -> "Hypothesis":
        """This path one stage further; ``prior`` < 1 when it overturns the stage's rule."""
        choices = dict(self.choices)
        if choice is not None:
            choices[stage.name] = choice
        return Hypothesis(self.trail + [(stage, image, skipped)], choices, reason or self.reason,
                          self.overturned + ((stage.name,) if prior < 1 else ()), self.log_prior + float(np.log(prior)))


def explore(image: np.ndarray, stages, skip=(), source: str = ps.SOURCE_PHOTO, alternatives: bool = True,
            limit: int = MAX_HYPOTHESES, within: float = np.inf, fallbacks: bool = False,
            memo: dict | None = None, branch_at: frozenset | None = None,
            left_out: list | None = None) -> list[Hypothesis]:
    """Run the stages in order, branching at decision stages; the rule's path comes first.

    Fallback decisions (``Stage.fallback``) branch, and ``Stage.fallback_options`` are offered, only when
    ``fallbacks`` is true.

    A path whose stage raises ``NoDigit`` ends there (its reason kept). Once ``limit`` paths
    are open, later alternatives are dropped (the rule's choices always stay); so are paths
    whose log prior falls more than ``within`` below the likeliest's (0: only its ties).

    ``memo`` (a dict kept between calls on the same image and source) keeps each stage's outcome per input
    picture, so a second exploration with the fallbacks works only on what they change.

    ``branch_at`` (stage names), where given, limits the branching to those decision stages: the others keep
    only the choices that overturn no rule (prior 1: the rule's, or either where it is unsure). The log prior
    of each path left out, there or by the limit, is appended to ``left_out``; priors are at most 1, so no
    path descended from it could have had more.
    """
    def branches(stage) -> bool:
        return stage.options is not None and alternatives and (fallbacks or not stage.fallback)

    def outcome(stage, picture):
        """The stage's options for one path's picture, or the NoDigit that ends the path. The fallback options are
        kept apart from the others, so a second exploration reuses the others' pictures (and every later stage's
        outcome for them) and adds only the fallbacks'."""
        options = kept_outcome(stage, picture, "options", lambda: fresh_outcome(stage, picture))
        if isinstance(options, NoDigit) or not (branches(stage) and fallbacks and stage.fallback_options is not None):
            return options
        more = kept_outcome(stage, picture, "fallback options", lambda: guarded(stage.fallback_options, picture, source))
        return options if isinstance(more, NoDigit) else options + more

    def kept_outcome(stage, picture, part, make):
        if memo is None:
            return make()
        key = (stage.name, id(picture), branches(stage), part)
        kept = memo.get(key)
        if kept is None or kept[0] is not picture:  # the picture is held, so its id is not reused while kept
            kept = memo[key] = (picture, make())
        return kept[1]

    def fresh_outcome(stage, picture):
        if branches(stage):
            return guarded(stage.options, picture, source)
        return guarded(lambda p, _: [(None, stage.func(p))], picture, source)

    def guarded(options, picture, source):
        try:
            return options(picture, source)
        except NoDigit as exc:
            # Without its traceback: kept in the memo, its frames kept every picture the stage had made alive
            # (a process reading 12 MP photos peaked at 1.6 GB instead of 0.83).
            return exc.with_traceback(None)

    def current(path):
        return path.trail[-1][1] if path.trail else image

    paths = [Hypothesis()]
    for stage in stages:
        skipped = stage.name in skip and stage.can_skip
        live = [p for p in paths if p.reason is None and not skipped]
        inputs = [current(p) for p in live]
        # The paths are independent and OpenCV and NumPy release the GIL: on big pictures, one thread per core
        # shares them out (on small ones the hand-over costs more than it saves).
        parallel = len(live) > 1 and inputs[0].size >= PARALLEL_PATHS_FROM
        outcomes = dict(zip(map(id, live), (_POOL.map if parallel else map)(functools.partial(outcome, stage), inputs)))
        grown = []
        for path in paths:
            if path.reason is not None:
                grown.append(path.then(stage, None, stage.name in skip))
                continue
            if skipped:
                grown.append(path.then(stage, current(path), True))
                continue
            options = outcomes[id(path)]
            if isinstance(options, NoDigit):
                grown.append(path.then(stage, None, reason=str(options)))
                continue
            for k, (label, out, *explicit) in enumerate(options):
                prior = explicit[0] if explicit else (1.0 if k == 0 else stage.overturn_prior)
                if k and prior < 1 and branch_at is not None and stage.name not in branch_at:
                    if left_out is not None:
                        left_out.append(path.log_prior + float(np.log(prior)))
                    continue
                grown.append(path.then(stage, out, choice=label, prior=prior))
        # Paths closer to the rules' choices first (stable), so the limit drops the farthest.
        grown.sort(key=lambda p: -p.log_prior)
        kept = [p for p in grown if p.log_prior >= grown[0].log_prior - within][:limit]
        if left_out is not None:
            left_out.extend(p.log_prior for p in grown[len(kept):])
        paths = kept
    return paths


def run_stages(image: np.ndarray, stages, skip=()) -> tuple[list[tuple[Stage, np.ndarray | None, bool]], str | None]:
    """The rule's single path: [(stage, output or None, skipped)] and the no-digit reason (or None)."""
    path = explore(image, stages, skip, alternatives=False)[0]
    return path.trail, path.reason

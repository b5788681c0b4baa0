"""Where each trial's values come from: a grid in order, seeded random draws, or Optuna's TPE (bayes).

Grid and random are reproducible from the trial number alone, so a resumed sweep continues the same sequence;
bayes keeps its Optuna study in the sweep folder (``optuna.db``), so a resumed sweep keeps what it learned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from sweeps.spec import SweepSpec
from sweeps.trial_process import TrialResult
from utils.config_values import ConfigError


class TrialSource(Protocol):
    """Chooses the values of new trials and hears how finished ones did."""

    def propose(self, trial: int) -> TrialResult:
        """Trial number ``trial`` with its parameter values (nothing run yet)."""
        ...

    def report(self, result: TrialResult) -> None:
        """A trial finished (ok, failed or timed out)."""
        ...


class GridSource:
    """Every combination of the parameters' values, the last parameter varying fastest."""

    def __init__(self, spec: SweepSpec) -> None:
        self.spec = spec

    def propose(self, trial: int) -> TrialResult:
        """The ``trial``-th grid point."""
        return TrialResult(trial, self.spec.grid_point(trial))

    def report(self, result: TrialResult) -> None:
        """Grids do not adapt."""


class RandomSource:
    """Independent draws; trial ``n`` of a sweep always gets the same values."""

    def __init__(self, spec: SweepSpec, seed: int) -> None:
        self.spec, self.seed = spec, seed

    def propose(self, trial: int) -> TrialResult:
        """Values drawn from a generator seeded by (sweep seed, trial)."""
        generator = np.random.default_rng([self.seed, trial])
        return TrialResult(trial, {name: param.sample(generator) for name, param in self.spec.params.items()})

    def report(self, result: TrialResult) -> None:
        """Random search does not adapt."""


class OptunaSource:
    """Bayesian optimisation: Optuna's TPE sampler, its study stored in the sweep folder."""

    def __init__(self, spec: SweepSpec, seed: int, folder: Path) -> None:
        try:
            import optuna
        except ImportError:
            raise ConfigError('method: bayes runs on Optuna locally; install it: pip install -e ".[sweeps]"') from None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna, self.spec = optuna, spec
        sampler = optuna.samplers.TPESampler(seed=seed, constant_liar=True)  # parallel trials spread out
        storage = f"sqlite:///{(folder / 'optuna.db').resolve()}"
        self.study = optuna.create_study(
            study_name=folder.name,
            storage=storage,
            sampler=sampler,
            direction="maximize" if spec.goal == "maximize" else "minimize",
            load_if_exists=True,
        )

    def propose(self, trial: int) -> TrialResult:
        """TPE's next suggestion, given every trial told so far."""
        asked = self.study.ask()
        params = {name: param.suggest(asked) for name, param in self.spec.params.items()}
        return TrialResult(trial, params, extra={"optuna_trial": asked.number})

    def report(self, result: TrialResult) -> None:
        """Tell the study the metric (or that the trial failed)."""
        number = result.extra.get("optuna_trial")
        if number is None:
            return
        state = self.optuna.trial.TrialState
        if result.status in ("ok", "timeout") and result.metric is not None:
            self.study.tell(number, result.metric)
        else:
            self.study.tell(number, state=state.FAIL)


def trial_source(spec: SweepSpec, seed: int, folder: Path) -> TrialSource:
    """The source for ``spec.method``."""
    if spec.method == "grid":
        return GridSource(spec)
    if spec.method == "random":
        return RandomSource(spec, seed)
    return OptunaSource(spec, seed, folder)

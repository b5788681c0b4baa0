"""What ``run_play.py`` plays with: a run's checkpoint, a model published to the Hub, or an untrained policy,
resolved into one ``PolicySource`` together with the first seed it replays by default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from utils.config import Config
from utils.config_values import ConfigError

if TYPE_CHECKING:  # imported where used: the command line stays fast
    import argparse

    from agents.networks.policies import MLPPolicy
    from utils.normalization import ObsNormalizer


@dataclass(frozen=True)
class PolicyChoice:
    """Which policy plays, as the command line names it."""

    config_id: str | None  # <env>:<variant> whose untrained policy plays (with random)
    run_id: str | None  # a run id or @last (None: @last)
    checkpoint: str | None  # best | last | <epoch number> (None: best)
    hub: str | None  # USER/NAME of a model published to the Hugging Face Hub, played instead of a run
    revision: str | None  # branch, tag or commit of the hub model (None: main)
    random: bool  # untrained (randomly initialised) weights instead of a checkpoint's
    deterministic: bool | None  # most likely action (True) or sampled (False); None: the config's eval_deterministic

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PolicyChoice:
        """The choice ``run_play.py``'s arguments make."""
        return cls(args.config, args.run_id, args.checkpoint, args.hub, args.revision, args.random, args.deterministic)


@dataclass
class PolicySource:
    """What plays: the config, the policy and its observation normalizer, the default first seed, whether actions
    are the most likely ones, and where the policy comes from (``metadata.json``'s ``policy`` in an export)."""

    config: Config
    policy: MLPPolicy
    normalizer: ObsNormalizer
    first_seed: int
    deterministic: bool
    info: dict[str, Any]


def resolve_policy_source(choice: PolicyChoice) -> PolicySource:
    """Config, policy and observation normalizer to play with, the default first seed, and the policy's origin."""
    from agents.loading import load_checkpoint_policy, load_trained_policy, untrained_policy
    from utils.checkpoints import checkpoint_logs_enabled
    from utils.config import load_config
    from utils.config_files import split_config_id
    from utils.run_reader import open_run

    if choice.config_id and choice.run_id:
        raise ConfigError("give either <env>:<variant> (with --random) or --run-id, not both")
    if choice.hub:
        from publishing.hub import download_model

        model = download_model(choice.hub, choice.revision)
        trained = load_checkpoint_policy(model.path)
        if checkpoint_logs_enabled():
            print(f"model {model.repo_id} ({model.revision}, commit {model.commit[:8]})")
        seeds = (model.results or {}).get("eval_seeds")
        published = seeds[0] if isinstance(seeds, list) and seeds and isinstance(seeds[0], int) else None
        first_seed = published if published is not None else eval_first_seed(trained.config)
        info = {"kind": "hub", "repo_id": model.repo_id, "revision": model.revision, "commit": model.commit}
        return _source(trained.config, trained.policy, trained.obs_normalizer, first_seed, choice, info)
    if choice.config_id:
        if not choice.random:
            raise ConfigError("<env>:<variant> plays an untrained policy; add --random, or use --run-id for a run")
        config = load_config(*split_config_id(choice.config_id))
        origin: dict[str, Any] = {}
    else:
        run = open_run(choice.run_id or "@last")
        if not choice.random:
            trained = load_trained_policy(run, choice.checkpoint or "best")
            if checkpoint_logs_enabled():
                print(f"run {run.run_id}, checkpoint {trained.checkpoint}")
            info = {"kind": "checkpoint", "run_id": run.run_id, "checkpoint": trained.checkpoint}
            first_seed = eval_first_seed(trained.config)
            return _source(trained.config, trained.policy, trained.obs_normalizer, first_seed, choice, info)
        config = Config.from_dict(run.read_config())
        origin = {"run_id": run.run_id}
    import torch

    torch.manual_seed(config.seed)
    untrained = untrained_policy(config)
    print(f"{config.config_id or config.env_id}: untrained policy (random weights)")
    info = {"kind": "random", "weights": "untrained (random initial weights)", "config_id": config.config_id, **origin}
    return _source(config, untrained.policy, untrained.obs_normalizer, eval_first_seed(config), choice, info)


def eval_first_seed(config: Config) -> int:
    """The seed of the first evaluation episode of a run made with ``config``: what plays by default."""
    from utils.evaluation import eval_base_seed

    return eval_base_seed(config.seed, config.eval_seed)


def _source(
    config: Config,
    policy: MLPPolicy,
    normalizer: ObsNormalizer,
    first_seed: int,
    choice: PolicyChoice,
    info: dict[str, Any],
) -> PolicySource:
    deterministic = config.eval_deterministic if choice.deterministic is None else choice.deterministic
    return PolicySource(config, policy, normalizer, first_seed, deterministic, info)

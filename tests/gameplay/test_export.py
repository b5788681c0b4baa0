"""export_rollout: one episode per folder, its npz layout per space, the step clock, the video and the metadata."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from gameplay.export import ExportError, export_rollout
from gameplay.network_policy import network_policy
from gameplay.space_layout import UnsupportedSpaceError
from gameplay.versions import git_commit
from utils.mp4_encoder import count_video_frames


class StructuredEnv(gym.Env):
    """Five steps of Dict observations (a Box and a Tuple inside) and Dict actions; reward 1 a step."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012  (gymnasium's class attribute)

    def __init__(self, observation_space: spaces.Space | None = None, action_space: spaces.Space | None = None):
        self.observation_space = observation_space or spaces.Dict(
            {
                "position": spaces.Box(-1.0, 1.0, (2,), np.float32),
                "grid": spaces.Tuple((spaces.Discrete(3), spaces.MultiDiscrete([2, 4]))),
            }
        )
        self.action_space = action_space or spaces.Dict(
            {"move": spaces.Box(-1.0, 1.0, (3,), np.float32), "buttons": spaces.MultiBinary(2)}
        )
        self.t = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.observation_space.seed(seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        assert self.action_space.contains(action)
        self.t += 1
        return self.observation_space.sample(), 1.0, self.t == 5, False, {}


def sampler(env: gym.Env, taken: list | None = None):
    """A policy drawing from the env's action space, remembering what it returned."""

    def policy(obs: Any, info: dict) -> Any:
        action = env.action_space.sample()
        if taken is not None:
            taken.append(action)
        return action

    return policy


def load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def replayed_observations(env_id: str, seed: int, actions: list, **kwargs: Any) -> list:
    """The observations a fresh env gives for ``actions`` after a reset with ``seed``."""
    env = gym.make(env_id, **kwargs)
    observations = [env.reset(seed=seed)[0]]
    observations += [env.step(action)[0] for action in actions]
    env.close()
    return observations


@pytest.mark.parametrize(("env_id", "obs_shape", "action_dtype", "action_shape"),
                         [("CartPole-v1", (4,), np.int64, ()), ("Pendulum-v1", (3,), np.float32, (1,))])  # fmt: skip
def test_box_observations_and_actions_are_one_value_array_each_with_the_reset_row(
    tmp_path: Path, env_id: str, obs_shape: tuple, action_dtype: type, action_shape: tuple
) -> None:
    env = gym.make(env_id)
    taken: list = []
    result = export_rollout(env, tmp_path / "episode", sampler(env, taken), seed=7)
    sensors, actions = load(tmp_path / "episode" / "sensors.npz"), load(tmp_path / "episode" / "actions.npz")
    steps = result.steps
    assert set(sensors) == {"observation/value", "observation/_t_ns"}
    assert set(actions) == {"action/value", "action/_t_ns"}
    assert sensors["observation/value"].dtype == np.float32
    assert sensors["observation/value"].shape == (steps + 1, *obs_shape)
    assert actions["action/value"].dtype == action_dtype
    assert actions["action/value"].shape == (steps, *action_shape)
    np.testing.assert_array_equal(actions["action/value"], np.array(taken, action_dtype).reshape(steps, *action_shape))
    # row 0 is the reset observation, row t+1 the observation after action t
    np.testing.assert_array_equal(sensors["observation/value"], np.array(replayed_observations(env_id, 7, taken)))


def test_discrete_observations_are_int64_rows(tmp_path: Path) -> None:
    env = gym.make("FrozenLake-v1")
    result = export_rollout(env, tmp_path / "episode", sampler(env), seed=1)
    sensors = load(tmp_path / "episode" / "sensors.npz")
    assert set(sensors) == {"observation/value", "observation/_t_ns"}
    assert sensors["observation/value"].dtype == np.int64
    assert sensors["observation/value"].shape == (result.steps + 1,)
    assert sensors["observation/value"][0] == 0  # FrozenLake starts in the top-left cell


def test_dict_and_tuple_parts_get_one_array_each_named_by_key_and_index(tmp_path: Path) -> None:
    env = StructuredEnv()
    taken: list = []
    result = export_rollout(env, tmp_path / "episode", sampler(env, taken), seed=3, fps=10)
    sensors, actions = load(tmp_path / "episode" / "sensors.npz"), load(tmp_path / "episode" / "actions.npz")
    assert result.steps == 5 and result.terminated
    assert {key: (value.dtype, value.shape) for key, value in sensors.items()} == {
        "observation.position/value": (np.float32, (6, 2)),
        "observation.grid.0/value": (np.int64, (6,)),
        "observation.grid.1/value": (np.int64, (6, 2)),
        "observation/_t_ns": (np.int64, (6,)),
    }
    assert {key: (value.dtype, value.shape) for key, value in actions.items()} == {
        "action.move/value": (np.float32, (5, 3)),
        "action.buttons/value": (np.int8, (5, 2)),
        "action/_t_ns": (np.int64, (5,)),
    }
    np.testing.assert_array_equal(actions["action.buttons/value"], [action["buttons"] for action in taken])
    np.testing.assert_array_equal(actions["action.move/value"], [action["move"] for action in taken])


def test_a_tuple_observation_is_namespaced_per_entry(tmp_path: Path) -> None:
    env = gym.make("Blackjack-v1")
    result = export_rollout(env, tmp_path / "episode", lambda obs, info: 0, seed=5)  # stick at once
    sensors = load(tmp_path / "episode" / "sensors.npz")
    assert result.steps == 1
    assert set(sensors) == {"observation.0/value", "observation.1/value", "observation.2/value", "observation/_t_ns"}
    assert all(sensors[f"observation.{i}/value"].dtype == np.int64 for i in range(3))
    first = gym.make("Blackjack-v1").reset(seed=5)[0]
    assert tuple(int(sensors[f"observation.{i}/value"][0]) for i in range(3)) == tuple(int(v) for v in first)


@pytest.mark.parametrize(("fps", "step_ns"), [(None, 20_000_000), (30, 33_333_333), (4, 250_000_000)])
def test_the_step_clock_is_int64_nanoseconds_one_fps_period_a_row(
    tmp_path: Path, fps: int | None, step_ns: int
) -> None:
    env = gym.make("CartPole-v1")  # render_fps 50: the default rate
    result = export_rollout(env, tmp_path / "episode", sampler(env), seed=0, fps=fps)
    for name, rows in (("sensors", result.steps + 1), ("actions", result.steps)):
        arrays = load(tmp_path / "episode" / f"{name}.npz")
        clock = arrays["observation/_t_ns" if name == "sensors" else "action/_t_ns"]
        assert clock.dtype == np.int64
        np.testing.assert_array_equal(clock, np.arange(rows) * step_ns)
    metadata = json.loads((tmp_path / "episode" / "metadata.json").read_text())
    assert metadata["fps"] == (fps or 50) and metadata["step_ns"] == step_ns


def test_metadata_records_the_episode_the_policy_and_the_software(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1", max_episode_steps=6)
    result = export_rollout(env, tmp_path / "episode", lambda obs, info: int(obs[2] > 0), seed=11,
                            policy_info={"kind": "random"})  # fmt: skip
    metadata = json.loads((tmp_path / "episode" / "metadata.json").read_text())
    assert metadata == result.metadata
    assert metadata["env_id"] == "CartPole-v1"
    assert (metadata["steps"], metadata["total_reward"]) == (6, 6.0)
    assert (metadata["terminated"], metadata["truncated"], metadata["stopped_at_max_steps"]) == (False, True, False)
    assert metadata["render_mode"] is None and metadata["video"] is None
    assert metadata["seed"] == 11
    assert metadata["policy"] == {"kind": "random"}
    assert metadata["versions"]["gymnasium"] == gym.__version__
    assert set(metadata["versions"]) <= {"gymnasium", "ale-py", "vizdoom", "stable-retro"}
    assert metadata["git_commit"] is None or re.fullmatch(r"[0-9a-f]{40}", metadata["git_commit"])
    assert metadata["observation_rows"].startswith("steps + 1") and metadata["action_rows"].startswith("steps:")
    assert [path.name for path in result.files] == ["sensors.npz", "actions.npz", "metadata.json"]
    assert sorted(path.name for path in (tmp_path / "episode").iterdir()) == sorted(p.name for p in result.files)


def test_a_callable_policy_is_named_in_the_metadata_by_default(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1", max_episode_steps=3)
    result = export_rollout(env, tmp_path / "episode", sampler(env), seed=0)
    assert result.metadata["policy"] == {"kind": "callable", "name": f"{__name__}.sampler.<locals>.policy"}


def test_git_commit_is_none_outside_a_git_checkout(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None


def test_an_rgb_array_env_gets_an_mp4_of_the_reset_frame_and_one_frame_per_step(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    result = export_rollout(env, tmp_path / "episode", sampler(env), seed=2)
    video = tmp_path / "episode" / "video.mp4"
    assert result.video_frames == result.steps + 1
    assert count_video_frames(video) == result.steps + 1
    assert result.metadata["video"]["frames"] == result.steps + 1
    assert [path.name for path in result.files] == ["sensors.npz", "actions.npz", "video.mp4", "metadata.json"]
    env.close()


def test_record_video_without_rgb_array_is_refused_before_writing(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1")
    with pytest.raises(ExportError, match="render_mode='rgb_array'"):
        export_rollout(env, tmp_path / "episode", sampler(env), record_video=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("observation_space", "action_space", "named"),
    [
        (spaces.Text(5), None, "observation space: Text "),
        (spaces.Dict({"graph": spaces.Graph(spaces.Box(0, 1, (2,)), None)}), None, "Graph (inside its Dict)"),
        (None, spaces.Sequence(spaces.Discrete(2)), "action space: Sequence "),
    ],
)
def test_an_unsupported_space_is_one_line_naming_its_type_and_nothing_is_written(
    tmp_path: Path, observation_space: spaces.Space | None, action_space: spaces.Space | None, named: str
) -> None:
    env = StructuredEnv(observation_space, action_space)
    with pytest.raises(UnsupportedSpaceError) as raised:
        export_rollout(env, tmp_path / "out" / "episode", sampler(env), seed=0)
    message = str(raised.value)
    assert named in message and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    (tmp_path / "episode").mkdir()
    (tmp_path / "episode" / "keep.txt").write_text("mine")
    env = gym.make("CartPole-v1")
    with pytest.raises(ExportError, match="already exists"):
        export_rollout(env, tmp_path / "episode", sampler(env))
    assert [path.name for path in (tmp_path / "episode").iterdir()] == ["keep.txt"]


def test_an_interrupted_episode_leaves_nothing_behind(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1", render_mode="rgb_array")
    calls: list[int] = []

    def interrupted(obs: Any, info: dict) -> int:
        calls.append(1)
        if len(calls) == 3:  # Ctrl-C in the middle of the episode, with the video started
            raise KeyboardInterrupt
        return 0

    with pytest.raises(KeyboardInterrupt):
        export_rollout(env, tmp_path / "episode", interrupted, seed=0)
    assert list(tmp_path.iterdir()) == []


def test_max_steps_ends_an_episode_that_has_not_ended(tmp_path: Path) -> None:
    env = gym.make("CartPole-v1")
    result = export_rollout(env, tmp_path / "episode", lambda obs, info: int(obs[2] > 0), seed=0, max_steps=4)
    assert result.steps == 4 and not (result.terminated or result.truncated)
    assert result.metadata["stopped_at_max_steps"] is True
    assert load(tmp_path / "episode" / "sensors.npz")["observation/value"].shape == (5, 4)


def test_a_network_policy_plays_the_episodes_evaluation_plays(tmp_path: Path, one_torch_thread: None) -> None:
    import torch

    from agents.loading import untrained_policy
    from utils.config import load_config
    from utils.envs import build_env
    from utils.evaluation import evaluate_policy

    config = load_config("CartPole-v1", "ppo")
    torch.manual_seed(0)
    trained = untrained_policy(config)
    seeds = [100, 101, 102]
    eval_env = build_env(config, "eval", n_envs=1)
    evaluated = [
        evaluate_policy(trained.policy, eval_env, trained.obs_normalizer, [s], deterministic=False) for s in seeds
    ]
    eval_env.close()
    env = gym.make("CartPole-v1")
    for seed, result in zip(seeds, evaluated, strict=True):
        policy = network_policy(trained.policy, trained.obs_normalizer, env.action_space, False, seed)
        exported = export_rollout(env, tmp_path / f"seed{seed}", policy, seed=seed)
        assert (exported.total_reward, exported.steps) == (result.returns[0], result.lengths[0])

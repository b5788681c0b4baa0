"""Checkpoint directories: atomic writes, aliases, pruning, lookup, and loading without pickle."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from utils.checkpoint_names import checkpoint_name
from utils.checkpoints import (
    CheckpointError,
    nonfinite_tensor,
    point_alias,
    prune_checkpoints,
    read_checkpoint,
    resolve_checkpoint,
    write_checkpoint,
    write_manifest,
)

CHECKPOINT_FILES = [
    "policy.safetensors", "policy.json", "normalization.npz", "config.json", "optimizer.pt", "resume.npz", "state.json",
]  # fmt: skip
UNPICKLE_CALLS: list[str] = []


def _record_unpickle(tag: str) -> str:
    """Called only if a pickle payload is executed while loading."""
    UNPICKLE_CALLS.append(tag)
    return tag


class _Payload:
    """An arbitrary object whose unpickling would run ``_record_unpickle``."""

    def __reduce__(self):
        return (_record_unpickle, ("executed",))


def _weights() -> dict[str, torch.Tensor]:
    return {"actor.0.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3), "actor.0.bias": torch.ones(2)}


def _write(directory: Path, epoch: int, steps: int, **overrides) -> Path:
    parts = {
        "weights": _weights(),
        "optimizer": {"state": {}, "param_groups": []},
        "arrays": {"obs_norm.mean": np.array([0.5, -1.5])},
        "state": {"epoch": epoch},
        "config": {"env_id": "CartPole-v1"},
        **overrides,
    }
    return write_checkpoint(directory, checkpoint_name(epoch, steps), **parts)


def test_checkpoint_names_sort_by_training_progress() -> None:
    assert checkpoint_name(12, 49152) == "epoch=0012-step=0049152"
    names = [checkpoint_name(e, e * 1000) for e in (10, 2, 100)]
    assert sorted(names) == [checkpoint_name(2, 2000), checkpoint_name(10, 10000), checkpoint_name(100, 100000)]


def test_write_then_read_round_trips_every_part(tmp_path: Path) -> None:
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    weights = {key: value.clone() for key, value in model.state_dict().items()}
    arrays = {
        "obs_norm.mean": np.array([1.0, 2.0, 3.0]),
        "env.state": np.arange(8, dtype=np.int64).reshape(2, 4),
        "flag": np.array(True),
    }
    state = {"timesteps": 4096, "rng": {"state": 2**100, "inc": 7}, "best": None, "tags": ["a", "b"]}
    config = {"env_id": "CartPole-v1", "policy_lr": {"start": 0.001, "end": 0.0}, "hidden_dims": [64, 64]}

    path = write_checkpoint(tmp_path, "epoch=0001-step=0004096", weights, optimizer.state_dict(), arrays, state, config)
    assert path == tmp_path / "epoch=0001-step=0004096"
    data = read_checkpoint(path)

    assert data.path == path
    assert data.weights.keys() == weights.keys()
    for key, tensor in weights.items():
        torch.testing.assert_close(data.weights[key], tensor, rtol=0, atol=0)
    assert data.arrays.keys() == arrays.keys()
    for key, array in arrays.items():
        np.testing.assert_array_equal(data.arrays[key], array)
        assert data.arrays[key].dtype == array.dtype
    assert data.state == state
    assert data.config == config
    restored = torch.optim.Adam(torch.nn.Linear(3, 2).parameters(), lr=0.5)
    restored.load_state_dict(data.optimizer)
    assert restored.param_groups[0]["lr"] == 0.01
    torch.testing.assert_close(
        restored.state_dict()["state"][0]["exp_avg"], optimizer.state_dict()["state"][0]["exp_avg"]
    )


def test_read_checkpoint_without_optimizer_skips_it(tmp_path: Path) -> None:
    path = _write(tmp_path, 1, 100, optimizer={"state": {}, "param_groups": []})
    assert read_checkpoint(path, with_optimizer=False).optimizer is None
    assert read_checkpoint(path).optimizer == {"state": {}, "param_groups": []}


def test_writing_leaves_no_temp_directory_behind(tmp_path: Path) -> None:
    _write(tmp_path, 1, 100)
    assert [p.name for p in tmp_path.iterdir()] == ["epoch=0001-step=0000100"]


def test_a_leftover_directory_of_the_same_name_is_replaced_not_adopted(tmp_path: Path) -> None:
    path = _write(tmp_path, 1, 100, state={"version": 1})
    (path / "stray.bin").write_bytes(b"left by a killed run")
    again = _write(tmp_path, 1, 100, state={"version": 2})
    assert again == path
    assert read_checkpoint(path).state == {"version": 2}
    assert not (path / "stray.bin").exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_missing_optimizer_is_an_error_when_training_needs_it(tmp_path: Path) -> None:
    path = _write(tmp_path, 1, 100, optimizer=None, state={})
    assert read_checkpoint(path, with_optimizer=False).weights.keys() == _weights().keys()
    with pytest.raises(CheckpointError, match=r"^checkpoint epoch=0001-step=0000100: optimizer.pt is missing$"):
        read_checkpoint(path)


@pytest.mark.parametrize("name", CHECKPOINT_FILES)
def test_a_truncated_file_is_named_in_a_one_line_error(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, 1, 100)
    data = (path / name).read_bytes()
    (path / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError) as error:
        read_checkpoint(path)
    message = str(error.value)
    assert "\n" not in message and name in message and "truncated" in message


@pytest.mark.parametrize("name", CHECKPOINT_FILES)
def test_a_same_size_garbage_file_fails_its_checksum(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, 1, 100)
    size = (path / name).stat().st_size
    (path / name).write_bytes(b"x" * size)
    with pytest.raises(CheckpointError, match=f"{re.escape(name)} does not match its checksum"):
        read_checkpoint(path)


def test_a_garbage_file_in_a_checkpoint_without_manifest_is_still_a_one_line_error(tmp_path: Path) -> None:
    path = _write(tmp_path, 1, 100)
    (path / "manifest.json").unlink()  # as written before checksums existed
    assert read_checkpoint(path).state == {"epoch": 1}
    (path / "resume.npz").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match=r"resume.npz cannot be read"):
        read_checkpoint(path)


def test_checkpoint_files_get_the_same_mode_as_other_files(tmp_path: Path) -> None:
    path = _write(tmp_path, 1, 100)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    modes = {entry.name: stat.S_IMODE(entry.stat().st_mode) for entry in path.iterdir()}
    assert set(modes.values()) == {stat.S_IMODE(plain.stat().st_mode)}, modes


def test_point_alias_swaps_the_symlink_to_the_new_checkpoint(tmp_path: Path) -> None:
    first = _write(tmp_path, 1, 100)
    second = _write(tmp_path, 2, 200)
    point_alias(tmp_path, "last", first.name)
    assert os.readlink(tmp_path / "last") == first.name
    point_alias(tmp_path, "last", second.name)
    assert os.readlink(tmp_path / "last") == second.name
    assert resolve_checkpoint(tmp_path, "last") == second.resolve()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_aliases_are_relative_links_so_a_moved_run_still_resolves(tmp_path: Path) -> None:
    original = tmp_path / "a" / "checkpoints"
    checkpoint = _write(original, 3, 300)
    point_alias(original, "best", checkpoint.name)
    moved = tmp_path / "b"
    os.rename(tmp_path / "a", moved)
    assert resolve_checkpoint(moved / "checkpoints", "best") == (moved / "checkpoints" / checkpoint.name).resolve()


def test_prune_keeps_the_newest_and_the_aliased_checkpoints(tmp_path: Path) -> None:
    first, second, third, fourth, newest = (_write(tmp_path, e, e * 100) for e in (1, 2, 3, 4, 5))
    point_alias(tmp_path, "best", first.name)
    point_alias(tmp_path, "last", newest.name)
    stale_temp = tmp_path / ".tmp-epoch=0006-step=0000600-999"
    stale_temp.mkdir()
    prune_checkpoints(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["best", "last", first.name, fourth.name, newest.name])
    assert not second.exists() and not third.exists()
    assert read_checkpoint(resolve_checkpoint(tmp_path, "best")).state == {"epoch": 1}


def test_prune_leaves_folders_it_did_not_write(tmp_path: Path) -> None:
    old, newest = _write(tmp_path, 1, 100), _write(tmp_path, 2, 200)
    point_alias(tmp_path, "last", newest.name)
    mine = tmp_path / "my-favourite"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    lookalike = tmp_path / "epoch=1-step=5"
    lookalike.mkdir()
    prune_checkpoints(tmp_path, keep=1)
    assert not old.exists()
    assert (mine / "notes.txt").read_text() == "keep me" and lookalike.is_dir()


def test_leftover_temp_dir_from_a_crashed_write_does_not_break_resolving_last(tmp_path: Path) -> None:
    done = _write(tmp_path, 1, 100)
    point_alias(tmp_path, "last", done.name)
    crashed = tmp_path / ".tmp-epoch=0002-step=0000200-4242"
    crashed.mkdir()
    (crashed / "policy.safetensors").write_bytes(b"half a file")
    assert resolve_checkpoint(tmp_path, "last") == done.resolve()
    assert read_checkpoint(resolve_checkpoint(tmp_path, "last")).state == {"epoch": 1}
    with pytest.raises(FileNotFoundError) as error:
        resolve_checkpoint(tmp_path, "epoch=0009")
    assert ".tmp-" not in str(error.value)
    assert done.name in str(error.value)


def test_resolve_by_epoch_number_finds_that_epoch(tmp_path: Path) -> None:
    _write(tmp_path, 3, 300)
    twelve = _write(tmp_path, 12, 1200)
    assert resolve_checkpoint(tmp_path, "12") == twelve
    assert resolve_checkpoint(tmp_path, "0012") == twelve
    assert resolve_checkpoint(tmp_path, twelve.name) == twelve


def test_resolve_unknown_checkpoint_lists_the_available_ones(tmp_path: Path) -> None:
    only = _write(tmp_path, 3, 300)
    with pytest.raises(FileNotFoundError, match=f"no checkpoint '7'.*available: best, last, {only.name}"):
        resolve_checkpoint(tmp_path, "7")


def test_unknown_checkpoint_message_names_each_checkpoint_once(tmp_path: Path) -> None:
    only = _write(tmp_path, 3, 300)
    for alias in ("best", "last"):
        (tmp_path / alias).symlink_to(only.name)
    with pytest.raises(FileNotFoundError) as error:
        resolve_checkpoint(tmp_path, "7")
    assert str(error.value).endswith(f"available: best, last, {only.name}")


def test_resolve_missing_alias_is_a_file_not_found_error(tmp_path: Path) -> None:
    _write(tmp_path, 1, 100)
    with pytest.raises(FileNotFoundError, match="no 'best' checkpoint"):
        resolve_checkpoint(tmp_path, "best")


def test_read_checkpoint_refuses_a_pickled_object_in_optimizer_pt(tmp_path: Path) -> None:
    path = _write(tmp_path, 1, 100)
    torch.save({"state": {}, "payload": _Payload()}, path / "optimizer.pt")
    UNPICKLE_CALLS.clear()
    with pytest.raises(CheckpointError, match=r"optimizer\.pt"):
        read_checkpoint(path)  # the checksum no longer matches
    write_manifest(path)  # a crafted checkpoint whose manifest matches its payload
    with pytest.raises(CheckpointError, match=r"optimizer\.pt cannot be read"):
        read_checkpoint(path)
    assert UNPICKLE_CALLS == []


@pytest.mark.parametrize("name", ["normalization.npz", "resume.npz"])
def test_read_checkpoint_refuses_object_arrays_in_an_npz(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, 1, 100)
    np.savez(path / name, sneaky=np.array([_Payload()], dtype=object))
    write_manifest(path)
    UNPICKLE_CALLS.clear()
    with pytest.raises(CheckpointError, match=rf"{re.escape(name)} cannot be read.*allow_pickle"):
        read_checkpoint(path)
    assert UNPICKLE_CALLS == []


def test_nonfinite_weights_are_found(tmp_path: Path) -> None:
    path = _write(tmp_path, 1, 100)
    assert nonfinite_tensor(read_checkpoint(path)) is None
    weights = _weights()
    weights["actor.0.bias"][1] = float("nan")
    assert nonfinite_tensor(read_checkpoint(_write(tmp_path, 2, 200, weights=weights))) == "actor.0.bias"

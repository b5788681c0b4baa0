"""One publish: check everything that can fail fast, re-evaluate the checkpoint, assemble the folder, and
upload it as one commit (or, for ``--dry-run DIR``, write it there without any network)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from agents.loading import load_checkpoint_policy
from publishing.folder import assemble_folder
from publishing.hub import HubClient, commit_folder, connect, hub_user
from publishing.repo_names import USER_PLACEHOLDER, repo_id_for
from publishing.request import PublishRequest, check_request
from publishing.results import PublishedResults, held_out_seeds, reevaluate
from utils.atomic_files import temp_path
from utils.checkpoints import POLICY_SPEC, resolve_checkpoint
from utils.config_values import ConfigError
from utils.run_reader import CheckpointInfo, list_checkpoints, open_run, run_status
from utils.runs import RunDir


def publish(
    request: PublishRequest,
    client: HubClient | None = None,
    log: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Publish and return the model's URL (the folder's path for a dry run)."""
    check_request(request)
    run = open_run(request.run_id)
    checkpoint = choose_checkpoint(run, request.checkpoint)
    run_config = run.read_config()
    if request.dry_run is not None:
        user = USER_PLACEHOLDER
    else:
        client = client or connect()
        user = hub_user(client, log, sleep)  # a missing or rejected token fails here, before the evaluation
    repo_id = repo_id_for(request.repo, user, str(run_config["algo_id"]), str(run_config["env_id"]))
    if run_status(run) == "running":
        log(f"note: run {run.run_id} is still training; publishing its checkpoint as it is now")
    log(f"publishing run {run.run_id}, checkpoint {checkpoint.name} as {repo_id}")
    trained = load_checkpoint_policy(checkpoint.path)
    seeds = held_out_seeds(run, trained.config.seed, trained.config.eval_seed, request.eval_episodes)
    results = reevaluate(trained, seeds, log)

    def assemble(folder: Path) -> list[tuple[str, str]]:
        return assemble_folder(folder, run, checkpoint, trained, results, repo_id, log)

    if request.dry_run is not None:
        files = _write_dry_run(request.dry_run, assemble)
        log(f"dry run: nothing was uploaded; {request.dry_run} holds what would be committed to {repo_id}:")
        for name, what in files:
            log(f"  {name:20} {(request.dry_run / name).stat().st_size:>10,} B  {what}")
        if repo_id.startswith(f"{USER_PLACEHOLDER}/"):
            log(f"note: the card names {repo_id}; give --repo YOURNAME/NAME to put your user in it")
        return str(request.dry_run)
    assert client is not None
    message = request.message or _commit_message(run, checkpoint, results)
    with tempfile.TemporaryDirectory(prefix="gymsolver-publish-") as temp:
        assemble(Path(temp))
        url = commit_folder(client, Path(temp), repo_id, private=request.private, message=message, log=log, sleep=sleep)
    log(f"published: {url}")
    return url


def choose_checkpoint(run: RunDir, which: str) -> CheckpointInfo:
    """The checkpoint ``which`` names, with what the run logged about it; one-line errors otherwise."""
    infos = list_checkpoints(run)
    if not infos:
        raise ConfigError(
            f"run {run.run_id} has no checkpoints (it stopped before its first update ended); "
            "give another run with --run-id"
        )
    path = resolve_checkpoint(run.checkpoints, which)
    info = next((info for info in infos if info.name == path.name), None)
    if info is None:
        raise FileNotFoundError(f"{path.name} is not a checkpoint of run {run.run_id}; give best, last or an epoch")
    if not (info.path / POLICY_SPEC).is_file():
        raise ConfigError(
            f"checkpoint {info.name} predates {POLICY_SPEC} (run format 0) and cannot be loaded without its env; "
            "publish a run trained since"
        )
    return info


def _write_dry_run(target: Path, assemble: Callable[[Path], list[tuple[str, str]]]) -> list[tuple[str, str]]:
    """Assemble beside ``target`` and rename into place, so a failure leaves no half-written folder."""
    temp = temp_path(target.absolute())
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        files = assemble(temp)
        if target.is_dir():
            target.rmdir()  # empty (checked before the evaluation); rmdir refuses anything else
        os.rename(temp, target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return files


def _commit_message(run: RunDir, checkpoint: CheckpointInfo, results: PublishedResults) -> str:
    return (
        f"Publish checkpoint {checkpoint.name} of run {run.run_id}: mean_reward {results.leaderboard_value} "
        f"over {len(results.eval_seeds)} episodes"
    )

"""The folder a publish uploads, and ``--dry-run DIR`` writes: an inference-only checkpoint directory (so
``agents.loading.load_checkpoint_policy`` loads a downloaded repo, checksums first) plus the model card,
the results, the run's training logs and a replay video.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from agents.loading import TrainedPolicy
from publishing.card import CardFacts, model_card
from publishing.replay import REPLAY_FILE, write_replay
from publishing.results import RESULTS_FILE, PublishedResults
from utils.checkpoints import (
    CONFIG,
    INFERENCE_FILES,
    MANIFEST,
    NORMALIZATION,
    POLICY,
    POLICY_SPEC,
    verify_checkpoint,
    write_manifest,
)
from utils.report import CURVE_FILE, REPORT_FILE, write_report
from utils.run_reader import CheckpointInfo, read_summary, run_status
from utils.runs import RunDir

CARD_FILE = "README.md"
EPISODES_FILE = "episodes.jsonl"
METRICS_FILE = "metrics.csv"
# Every file a published repo holds, in the order the card and --dry-run list them.
PUBLISHED_FILES: dict[str, str] = {
    CARD_FILE: "the model card: results, replay, learning curve, hyperparameters, commands",
    RESULTS_FILE: "the published evaluation: mean_reward, std_reward, n_eval_episodes, is_deterministic, "
    "eval_seeds, eval_datetime, each episode's return and length",
    POLICY: "the network's weights (safetensors)",
    POLICY_SPEC: "observation and action spaces, network and normalization kind: the policy is built from it",
    NORMALIZATION: "observation normalization statistics (empty without normalization; no pickle)",
    CONFIG: "the run's full config",
    MANIFEST: "size and sha256 of every file here, checked before the policy loads",
    METRICS_FILE: "every training metric, one row per update",
    EPISODES_FILE: "every evaluation episode of training: seed, return, length",
    REPORT_FILE: "the run's training report",
    CURVE_FILE: "returns against environment steps",
    REPLAY_FILE: "one episode of the agent, H.264 (plays in a browser)",
}


def assemble_folder(
    folder: Path,
    run: RunDir,
    checkpoint: CheckpointInfo,
    trained: TrainedPolicy,
    results: PublishedResults,
    repo_id: str,
    log: Callable[[str], None] = print,
) -> list[tuple[str, str]]:
    """Write every published file into the empty ``folder``; returns (name, what it holds) of each."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (*INFERENCE_FILES, MANIFEST):
        shutil.copyfile(checkpoint.path / name, folder / name)
    verify_checkpoint(folder, with_optimizer=False)  # the copies against the checkpoint's own manifest
    (folder / RESULTS_FILE).write_text(json.dumps(results.to_json(), indent=2) + "\n")
    for name in (METRICS_FILE, EPISODES_FILE):
        if (run.path / name).is_file():
            shutil.copyfile(run.path / name, folder / name)
    if (run.path / REPORT_FILE).is_file() and (run.path / CURVE_FILE).is_file():
        shutil.copyfile(run.path / REPORT_FILE, folder / REPORT_FILE)
        shutil.copyfile(run.path / CURVE_FILE, folder / CURVE_FILE)
    elif (folder / METRICS_FILE).is_file():  # a killed run has no report yet: write it from its metrics
        config = trained.config
        summary = {key: value for key, value in (read_summary(run) or {}).items() if key != "report"}
        summary["status"] = run_status(run)
        write_report(folder, f"{config.config_id or config.env_id}  run {run.run_id}", config.to_dict(), summary)
    replay = write_replay(run, checkpoint, trained, results, folder / REPLAY_FILE, log)
    present = {CARD_FILE, MANIFEST} | {entry.name for entry in folder.iterdir() if entry.is_file()}
    files = [(name, what) for name, what in PUBLISHED_FILES.items() if name in present]
    facts = CardFacts(
        repo_id, trained.config, _policy_spec(folder), checkpoint, run_status(run), results, replay, files
    )
    (folder / CARD_FILE).write_text(model_card(facts))
    write_manifest(folder)  # over every file: the README and results too
    verify_checkpoint(folder, with_optimizer=False)
    return files


def _policy_spec(folder: Path) -> dict:
    return json.loads((folder / POLICY_SPEC).read_text())

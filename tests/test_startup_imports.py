"""What a training run imports (docs/PERFORMANCE.md, startup): Lightning without torch._dynamo and torchmetrics,
torch.optim without torch._dynamo, and both still there, real, for anyone who imports them afterwards."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from agents.speed.eager_optimizer import _fused_adam_step, eager_optimizer_functions, eager_step

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = ("torch._dynamo", "torchmetrics", "sympy", "torch.distributed.tensor")


def _python(code: str, tmp_path: Path) -> dict:
    """Run ``code`` in a fresh interpreter at the repository root; it prints one JSON object last."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "GYMSOLVER_RUNS_DIR": str(tmp_path / "runs")}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_training_run_never_imports_dynamo_or_torchmetrics(tmp_path: Path) -> None:
    code = f"""
import json, sys
import train
status = train.main(["CartPole-v1:ppo", "-q", "--video", "off", "--no-wandb", "--max-timesteps", "512",
                     "--set", "eval_episodes=2"])
loaded = [name for name in {SKIPPED!r} if name in sys.modules]
import torch, torch._dynamo, torchmetrics  # afterwards: the real packages
compiled = torch.compile(torch.nn.Linear(2, 2), backend="eager")
print(json.dumps({{"status": status, "loaded": loaded, "optimized": type(compiled).__name__,
                  "is_optimized": isinstance(compiled, torch._dynamo.OptimizedModule),
                  "metric": torchmetrics.Metric.__module__}}))
"""
    result = _python(code, tmp_path)
    assert result["status"] == 0
    assert result["loaded"] == [], f"a training run imported {result['loaded']}"
    assert result["optimized"] == "OptimizedModule" and result["is_optimized"]
    assert result["metric"] == "torchmetrics.metric"
    assert (tmp_path / "runs" / "@last" / "checkpoints" / "last" / "optimizer.pt").is_file()  # state_dict ran


def test_lightning_imported_first_keeps_its_stand_ins_out_of_sys_modules(tmp_path: Path) -> None:
    code = """
import json, sys
from utils.lean_lightning import pl
before = {name: name in sys.modules for name in ("torch._dynamo", "torchmetrics")}
import torch
print(json.dumps({"before": before, "trainer": pl.Trainer.__name__,
                  "dynamo": type(torch._dynamo).__name__, "disable": torch._dynamo.disable.__module__}))
"""
    result = _python(code, tmp_path)
    assert result["before"] == {"torch._dynamo": False, "torchmetrics": False}
    assert result["trainer"] == "Trainer"
    assert result["dynamo"] == "module" and result["disable"].startswith("torch._dynamo")  # the real one, on demand


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_eager_step_computes_what_step_computes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bit for bit over 5 steps, with the learning rate changed between steps as the schedules do; a fused
    Adam/AdamW takes the direct kernel call from its second step on (the first creates the state)."""
    eager_optimizer_functions()
    cls_of = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    full_steps: list[int] = []
    original = torch.no_grad()(inspect.unwrap(cls_of[name].step))
    monkeypatch.setattr(cls_of[name], "step", lambda self, *args: full_steps.append(1) or original(self, *args))
    torch.manual_seed(0)
    start = torch.randn(300)
    grads = [torch.randn(300) for _ in range(5)]
    results = []
    for stepper in (lambda opt: opt.step(), eager_step):
        param = torch.nn.Parameter(start.clone())
        if name == "sgd":
            optimizer: torch.optim.Optimizer = torch.optim.SGD([param], lr=0.1, momentum=0.9, weight_decay=0.01)
        else:
            cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
            optimizer = cls([param], lr=1e-2, eps=1e-5, weight_decay=0.01, fused=True)
        full_steps.clear()
        for grad in grads:
            param.grad = grad.clone()
            optimizer.param_groups[0]["lr"] *= 0.9
            stepper(optimizer)
        results.append((param.detach().clone(), optimizer.state_dict()))
    assert len(full_steps) == (5 if name == "sgd" else 1)  # the eager steps that ran the optimizer's own step()
    (plain, plain_state), (eager, eager_state) = results
    assert not torch.equal(plain, start)
    assert torch.equal(plain, eager)
    assert plain_state["param_groups"] == eager_state["param_groups"]
    for key, value in plain_state["state"][0].items():
        assert torch.equal(value, eager_state["state"][0][key]), key


def test_the_direct_adam_call_leaves_other_optimizers_to_step() -> None:
    param = torch.nn.Parameter(torch.ones(3))
    param.grad = torch.ones(3)
    fresh = torch.optim.Adam([param], lr=0.1, fused=True)
    assert not _fused_adam_step(fresh)  # no state yet: step() creates it
    fresh.step()
    assert _fused_adam_step(fresh)
    for optimizer in (
        torch.optim.Adam([param], lr=0.1),  # the per-tensor loop, not the fused kernel
        torch.optim.Adam([param], lr=0.1, fused=True, amsgrad=True),
        torch.optim.Adam([{"params": [param]}, {"params": [torch.nn.Parameter(torch.ones(2))]}], lr=0.1, fused=True),
    ):
        optimizer.step()
        assert not _fused_adam_step(optimizer)


def test_eager_step_runs_registered_step_hooks() -> None:
    param = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.SGD([param], lr=1.0)
    calls: list[str] = []
    optimizer.register_step_pre_hook(lambda *_: calls.append("pre"))
    optimizer.register_step_post_hook(lambda *_: calls.append("post"))
    param.grad = torch.ones(3)
    eager_step(optimizer)
    assert calls == ["pre", "post"]
    assert torch.equal(param.detach(), torch.zeros(3))

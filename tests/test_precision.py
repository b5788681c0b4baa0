"""precision: auto is bf16 autocast only for CNN policies on a CPU with native bf16; explicit values win."""

from __future__ import annotations

from pathlib import Path

import pytest

from utils.config import Config
from utils.config_values import ConfigError
from utils.precision import cpu_has_native_bf16, emulated_bf16_note, resolve_precision

CNN = Config(env_id="ALE/Pong-v5", policy="cnn")
MLP = Config(env_id="CartPole-v1", policy="mlp")


def _cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nflags\t\t: fpu sse2 avx2 {flags}\n\nprocessor\t: 1\nflags\t\t: fpu {flags}\n")
    return path


@pytest.mark.parametrize(("flags", "native"), [("avx512f avx512_bf16", True), ("amx_tile amx_bf16", True),
                                               ("avx512f avx512bw avx512vl", False), ("", False)])  # fmt: skip
def test_native_bf16_is_read_from_the_cpu_flags(tmp_path: Path, flags: str, native: bool) -> None:
    assert cpu_has_native_bf16(_cpuinfo(tmp_path, flags)) is native


def test_no_cpuinfo_means_no_native_bf16(tmp_path: Path) -> None:
    assert cpu_has_native_bf16(tmp_path / "missing") is False


def test_auto_is_bf16_only_for_a_cnn_on_a_native_bf16_cpu() -> None:
    assert CNN.precision == "auto" and MLP.precision == "auto"  # the default
    assert resolve_precision(CNN, "cpu", native_bf16=True) == "bf16-mixed"
    assert resolve_precision(CNN, "cpu", native_bf16=False) == "32-true"
    assert resolve_precision(MLP, "cpu", native_bf16=True) == "32-true"
    assert resolve_precision(CNN, "gpu", native_bf16=True) == "32-true"


def test_an_explicit_precision_is_used_as_is() -> None:
    cnn32 = Config(env_id="ALE/Pong-v5", policy="cnn", precision="32-true")
    mlp16 = Config(env_id="CartPole-v1", policy="mlp", precision="bf16-mixed")
    assert resolve_precision(cnn32, "cpu", native_bf16=True) == "32-true"
    assert resolve_precision(mlp16, "cpu", native_bf16=False) == "bf16-mixed"


def test_an_unknown_precision_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="precision"):
        Config(env_id="CartPole-v1", precision="fp8")


def test_bf16_on_a_cpu_that_only_emulates_it_gets_a_warning() -> None:
    cnn16 = Config(env_id="ALE/Pong-v5", policy="cnn", precision="bf16-mixed")
    note = emulated_bf16_note(cnn16, "cpu", native_bf16=False)
    assert note is not None and "emulated" in note and "32-true" in note
    assert emulated_bf16_note(cnn16, "cpu", native_bf16=True) is None
    assert emulated_bf16_note(cnn16, "gpu", native_bf16=False) is None
    assert emulated_bf16_note(CNN, "cpu", native_bf16=False) is None  # auto never picks emulated bf16

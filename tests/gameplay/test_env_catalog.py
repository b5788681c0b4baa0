"""The envs run_play.py --human can play (gameplay/env_catalog.py), by platform."""

from __future__ import annotations

import pytest

from gameplay.env_catalog import NO_ROM, PLATFORMS, PlayableEnv, catalog_report, list_playable_envs


@pytest.fixture(scope="module")
def every_env() -> list[PlayableEnv]:
    return list_playable_envs()


def test_every_platform_lists_its_envs(every_env: list[PlayableEnv]) -> None:
    by_id = {env.env_id: env for env in every_env}
    assert by_id["ALE/Pong-v5"] == PlayableEnv("ALE/Pong-v5", "Atari")
    assert by_id["VizdoomBasic-v1"] == PlayableEnv("VizdoomBasic-v1", "VizDoom")
    assert by_id["Airstriker-Genesis-v0"] == PlayableEnv("Airstriker-Genesis-v0", "stable-retro")  # ROM shipped
    assert by_id["SuperMarioBros-Nes-v0"].missing == NO_ROM
    assert by_id["CartPole-v1"].platform == "classic control"
    assert by_id["Taxi-v4"].platform == "toy text"
    assert by_id["LunarLander-v3"].platform == "box2d"
    assert "BipedalWalker-v3" not in by_id  # no keyboard binding


def test_envs_come_grouped_in_platform_order(every_env: list[PlayableEnv]) -> None:
    order = [PLATFORMS.index(env.platform) for env in every_env]
    assert order == sorted(order) and set(order) == set(range(len(PLATFORMS)))
    retro = [env for env in every_env if env.platform == "stable-retro"]
    assert retro[0].env_id == "Airstriker-Genesis-v0"  # the games with a ROM come first


def test_report_has_a_heading_per_platform_then_one_id_a_line(every_env: list[PlayableEnv]) -> None:
    lines = catalog_report(every_env).splitlines()
    headings = [line for line in lines if not line.startswith("  ")]
    assert [heading.split(" (")[0] for heading in headings] == list(PLATFORMS)
    assert "  ALE/Pong-v5" in lines
    assert any(line.startswith("stable-retro (") and "ready to play" in line for line in headings)


def test_filter_keeps_the_ids_that_contain_it_ignoring_case() -> None:
    envs = list_playable_envs("PONG")
    assert {env.env_id for env in envs} >= {"ALE/Pong-v5", "Pong-Atari2600-v0"}
    assert all("pong" in env.env_id.lower() for env in envs)
    assert list_playable_envs("no such env") == []

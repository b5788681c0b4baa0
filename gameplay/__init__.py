"""Looking at an env and exporting played episodes: ``scan_env`` (spaces, render modes, action meanings, limits,
vectorization) and ``export_rollout`` (observations, actions, video and metadata of one episode, per folder)."""

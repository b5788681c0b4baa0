"""The application wiring of a training run: it builds the envs, agent, callbacks and trainer (above them all)."""

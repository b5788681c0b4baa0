"""Browse a trained run in the browser: ``python run_inspect.py --run-id @last --port 7860``.

Roll out an episode of any checkpoint and step through it: the rendered frame, what the agent sees, the
action with its label and probability, V(s), reward, return-to-go and GAE advantage; replay an evaluation
from ``episodes.jsonl`` and watch its video; read the config, report, learning curves and checkpoints.
Everything is checked (run, checkpoint, env, port) before the server starts; Gradio is imported after.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys

from utils.cli_parser import OneLineErrorParser
from utils.config_values import ConfigError

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def build_parser() -> argparse.ArgumentParser:
    """The run_inspect.py command line."""
    parser = OneLineErrorParser(description="Inspect a trained run in a web app (Gradio), step by step.")
    parser.add_argument("--run-id", "--run_id", dest="run_id", default="@last",
                        help="run to open first (id or @last; default @last); every run is in the picker")  # fmt: skip
    parser.add_argument("--port", type=int, default=7860, help="port to serve on (default 7860)")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0: every interface)")  # fmt: skip
    parser.add_argument("--share", action="store_true", help="also open a public gradio.live link (needs internet)")
    return parser


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Fail now, in one line, when the port is out of range or another program listens on it."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port: {port} is not a port number (1-65535)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            reason = "is in use" if error.errno == 98 else f"cannot be bound ({error.strerror})"
            raise ConfigError(f"port {port} on {host} {reason}; pick another with --port") from None


def preflight(args: argparse.Namespace) -> tuple[str, object]:
    """Every check that can fail before the server starts: the run, its checkpoints, its env, the port."""
    from utils.config import Config
    from utils.envs import make_single_env
    from utils.run_reader import list_checkpoints, open_run
    from utils.runs import runs_root

    root = runs_root()
    run = open_run(args.run_id, root)
    if not list_checkpoints(run):
        raise ConfigError(f"run {run.run_id} has no checkpoint yet; wait for its first epoch to finish, then retry")
    config = Config.from_dict(run.read_config())
    make_single_env(config).close()  # a missing optional extra (ALE, VizDoom, retro ROM) fails here, in one line
    check_port(args.host, args.port)
    return run.run_id, root


def serve(args: argparse.Namespace, run_id: str, root: object) -> int:
    """Start the app and block until Ctrl-C."""
    from pathlib import Path

    from inspector.app import build_app

    assert isinstance(root, Path)
    app = build_app(root, run_id)
    app.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        prevent_thread_lock=True,
        quiet=True,
        show_error=False,
        allowed_paths=[str(root)],
    )
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"inspector: http://{shown}:{args.port}/  (run {run_id}; Ctrl-C to stop)", flush=True)
    if args.share and app.share_url:
        print(f"public link: {app.share_url}", flush=True)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, check everything, then serve; user errors print one line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        run_id, root = preflight(args)
    except (ConfigError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.share or not is_loopback(args.host):
        where = "through a public gradio.live link" if args.share else f"on {args.host}"
        print(f"warning: the inspector is reachable by others {where}; it shows this machine's runs", flush=True)
    return serve(args, run_id, root)


if __name__ == "__main__":
    sys.exit(main())

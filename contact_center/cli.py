"""The `contact-center` command: serve, db upgrade, user add/set, queues, customer merge, simulate.

Each subcommand parses its arguments here and calls one function of the package that owns the work; imports are
lazy so that `contact-center simulate` does not load the web stack.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence

from contact_center.domain import DomainError
from contact_center.settings import Settings, SettingsError


def _settings(args: argparse.Namespace, **overrides) -> Settings:
    """The effective settings, as `serve` runs with them: environment over the settings file (`--config`, else
    `CC_CONFIG`) over defaults, plus the demo's queue when the demo is on (so `user add --queues billing` is
    checked against what serve routes)."""
    from contact_center.demo import with_demo_queue

    settings = Settings.load(config_file=getattr(args, "config", None))
    changes = {k: v for k, v in overrides.items() if v is not None}
    settings = settings.replace(**changes) if changes else settings
    return with_demo_queue(settings) if settings.demo else settings


def _cmd_serve(args: argparse.Namespace) -> int:
    from contact_center.app import serve

    serve(_settings(args, host=args.host, port=args.port, demo=True if args.demo else None))
    return 0


def _cmd_db_upgrade(args: argparse.Namespace) -> int:
    from contact_center.history.migrations import upgrade

    settings = _settings(args)
    upgrade(settings.database_url)
    print(f"database at {settings.database_url} is up to date")
    return 0


def _cmd_user_add(args: argparse.Namespace) -> int:
    from contact_center.users import add_user_from_cli

    user = asyncio.run(add_user_from_cli(_settings(args), name=args.name, role=args.role, password=args.password,
                                         skills=args.skills, queues=args.queues, capacity=args.capacity))
    print(f"added {user.role} {user.username} (id {user.id})")
    return 0


def _cmd_user_set(args: argparse.Namespace) -> int:
    from contact_center.users import set_user_from_cli

    user = asyncio.run(set_user_from_cli(_settings(args), name=args.name, skills=args.skills, queues=args.queues,
                                         capacity=args.capacity))
    capacity = ",".join(f"{k}:{v}" for k, v in (user.capacity or {}).items()) or "the defaults"
    print(f"{user.username}: skills {dict(user.skills)}, queues {list(user.queues)}, capacity {capacity}")
    return 0


def _cmd_queues(args: argparse.Namespace) -> int:
    from contact_center.queue_settings import describe, describe_text

    settings = _settings(args)
    print(json.dumps(describe(settings), indent=2) if args.json else describe_text(settings))
    return 0


def _cmd_customer_merge(args: argparse.Namespace) -> int:
    from contact_center.history.cli import merge_customers_from_cli

    merged = asyncio.run(merge_customers_from_cli(_settings(args), keep=args.keep, other=args.other))
    print(json.dumps(merged, indent=2, default=str))
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from routing.simulation import SimulationConfig, simulate

    sigma = {} if args.lognormal_sigma is None else {"lognormal_sigma": args.lognormal_sigma}
    config = SimulationConfig(agents=args.agents, arrival_rate=args.arrival_rate, aht_s=args.aht,
                              patience_s=args.patience, hours=args.hours, seed=args.seed,
                              sl_threshold_s=args.sl_threshold, handle_time=args.handle_time, **sigma)
    try:
        if sigma and args.handle_time != "lognormal":
            raise ValueError("--lognormal-sigma shapes lognormal handle times: give --handle-time lognormal")
        config.validate()
    except ValueError as e:
        print(f"contact-center simulate: {e}", file=sys.stderr)
        return 2
    result = simulate(config)
    figures = result.as_dict()
    if args.json:
        print(json.dumps(figures, allow_nan=False))
    else:
        width = max(map(len, figures))
        for key, value in figures.items():
            print(f"{key:>{width}}: {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contact-center", description="Multichannel contact center.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", metavar="FILE",
                       help="TOML settings file (default: $CC_CONFIG; environment variables win)")
        return p

    p = with_config(sub.add_parser("serve", help="run everything in one process"))
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--demo", action="store_true", help="create a demo agent and print its credentials")
    p.set_defaults(func=_cmd_serve)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    with_config(db.add_parser("upgrade", help="apply migrations")).set_defaults(func=_cmd_db_upgrade)

    user = sub.add_parser("user", help="agents, supervisors and admins").add_subparsers(dest="user_command",
                                                                                      required=True)
    p = with_config(user.add_parser("add", help="add a user"))
    p.add_argument("name")
    p.add_argument("--role", choices=("agent", "supervisor", "admin"), required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--skills", default="", help="comma-separated skills with optional levels: billing:5,spanish")
    p.add_argument("--queues", default="", help="comma-separated queues (default: the default queue)")
    p.add_argument("--capacity", default="",
                   help="contacts at once per channel over the [routing] capacity defaults: chat:2,voice:1 "
                        "(0 = not served)")
    p.set_defaults(func=_cmd_user_add)

    p = with_config(user.add_parser("set", help="change a user's skills, queues or capacity (each replaced whole)"))
    p.add_argument("name")
    p.add_argument("--skills", help="comma-separated skills with optional levels: billing:5,spanish")
    p.add_argument("--queues", help="comma-separated queues (empty: the default queue)")
    p.add_argument("--capacity", help="contacts at once per channel: chat:2,voice:1; 'default' = [routing] capacity")
    p.set_defaults(func=_cmd_user_set)

    p = with_config(sub.add_parser("queues", help="print the effective queue and routing configuration"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_queues)

    customer = sub.add_parser("customer", help="customer records").add_subparsers(dest="customer_command",
                                                                                 required=True)
    p = with_config(customer.add_parser("merge", help="join two customers, keeping all history of both"))
    p.add_argument("keep", help="id of the customer that stays")
    p.add_argument("other", help="id of the customer merged into it")
    p.set_defaults(func=_cmd_customer_merge)

    from routing.simulation import SimulationConfig  # routing only, not the web stack

    p = sub.add_parser("simulate", help="drive the routing engine with a virtual clock (compare with Erlang C/A)")
    p.add_argument("--agents", type=int, required=True)
    p.add_argument("--arrival-rate", type=float, required=True, help="contacts per second")
    p.add_argument("--aht", type=float, required=True, help="mean handle time, seconds")
    p.add_argument("--patience", type=float, help="mean patience (exponential), seconds; enables abandonment")
    p.add_argument("--hours", type=float, default=8.0, help="hours of measured arrivals, after a warm-up of 10 %%")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sl-threshold", type=float, default=20.0, help="service-level threshold, seconds")
    p.add_argument("--handle-time", choices=("exponential", "lognormal"), default="exponential",
                   help="distribution of handle times, both with mean --aht (default: exponential, Erlang's)")
    p.add_argument("--lognormal-sigma", type=float, metavar="SIGMA",
                   help=f"spread of lognormal handle times: sigma of their logarithm (default "
                        f"{SimulationConfig.lognormal_sigma}; squared coefficient of variation e^(sigma^2) - 1)")
    p.add_argument("--json", action="store_true", help="one JSON object (fields: docs/routing.md, the simulator)")
    p.set_defaults(func=_cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `contact-center` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as e:
        print(f"contact-center: bad setting: {e}", file=sys.stderr)
        return 2
    except DomainError as e:  # bad input or an unknown id: say which, no traceback
        print(f"contact-center: {e.code}: {e.message}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `contact-center queues | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        return 0


if __name__ == "__main__":
    sys.exit(main())

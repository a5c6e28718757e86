"""`talkdesk-emulator`: serve the emulated Talkdesk account until Ctrl-C."""

from __future__ import annotations

import argparse
import logging

from talkdesk_emulator.config import DEFAULT_HOST, DEFAULT_PORT, EmulatorConfig

MISSING_EXTRA = ("talkdesk-emulator needs its web server, which a production install leaves out: "
                 "pip install 'wfm_pipelines[emulator]' (make run and make test install it)")


def build_parser() -> argparse.ArgumentParser:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(prog="talkdesk-emulator", description=__doc__)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--queues", type=int, default=defaults.queues)
    parser.add_argument("--queue-name", action="append", dest="queue_names", default=None, metavar="NAME",
                        help="name of the next queue as Talkdesk spells it (repeatable; --queues grows to fit)")
    parser.add_argument("--agents", type=int, default=defaults.agents)
    parser.add_argument("--contacts-per-day", type=int, default=defaults.contacts_per_day)
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument("--token-ttl", type=int, default=defaults.token_ttl, help="seconds (expires_in)")
    parser.add_argument("--report-processing-seconds", type=float, default=defaults.report_processing_seconds)
    parser.add_argument("--data-delay-seconds", type=int, default=defaults.data_delay_seconds)
    return parser


def build_config(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        seed=args.seed, queues=args.queues, agents=args.agents, contacts_per_day=args.contacts_per_day,
        queue_names=tuple(args.queue_names or ()),
        client_id=args.client_id, client_secret=args.client_secret, token_ttl=args.token_ttl,
        report_processing_seconds=args.report_processing_seconds, data_delay_seconds=args.data_delay_seconds,
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        from talkdesk_emulator.server import EmulatorServer  # werkzeug: the `emulator` extra
    except ModuleNotFoundError as missing:
        raise SystemExit(f"{MISSING_EXTRA} ({missing})") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = build_config(args)
    server = EmulatorServer(config, host=args.host, port=args.port)
    logging.getLogger("talkdesk_emulator").info(
        "Talkdesk emulator on %s (token endpoint %s/oauth/token, client %s); Ctrl-C stops it",
        server.url, server.url, config.client_id)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

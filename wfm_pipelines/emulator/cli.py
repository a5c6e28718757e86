"""`talkdesk-emulator`: serve the emulated Talkdesk account until Ctrl-C."""

from __future__ import annotations

import argparse
import logging

from wfm_pipelines.emulator.config import EmulatorConfig
from wfm_pipelines.emulator.server import EmulatorServer
from wfm_pipelines.settings import EMULATOR_HOST, EMULATOR_PORT


def build_parser() -> argparse.ArgumentParser:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(prog="talkdesk-emulator", description=__doc__)
    parser.add_argument("--host", default=EMULATOR_HOST)
    parser.add_argument("--port", type=int, default=EMULATOR_PORT)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--queues", type=int, default=defaults.queues)
    parser.add_argument("--agents", type=int, default=defaults.agents)
    parser.add_argument("--contacts-per-day", type=int, default=defaults.contacts_per_day)
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument("--token-ttl", type=int, default=defaults.token_ttl, help="seconds (expires_in)")
    parser.add_argument("--report-processing-seconds", type=float, default=defaults.report_processing_seconds)
    parser.add_argument("--data-delay-seconds", type=int, default=defaults.data_delay_seconds)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = EmulatorConfig(
        seed=args.seed, queues=args.queues, agents=args.agents, contacts_per_day=args.contacts_per_day,
        client_id=args.client_id, client_secret=args.client_secret, token_ttl=args.token_ttl,
        report_processing_seconds=args.report_processing_seconds, data_delay_seconds=args.data_delay_seconds,
    )
    server = EmulatorServer(config, host=args.host, port=args.port)
    logging.getLogger("wfm_pipelines.emulator").info(
        "Talkdesk emulator on %s (token endpoint %s/oauth/token, client %s); Ctrl-C stops it",
        server.url, server.url, config.client_id)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

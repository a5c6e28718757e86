"""`talkdesk-emulator`: serve the emulated Talkdesk account (or, with --accounts-file, several accounts under
/accounts/<id> on one port) until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any

from talkdesk_emulator.config import DEFAULT_HOST, DEFAULT_PORT, EmulatorConfig
from talkdesk_emulator.day_cache import SHARED_DAY_CACHE_BYTES

MISSING_EXTRA = ("talkdesk-emulator needs its web server, which a production install leaves out: "
                 "pip install 'wfm_pipelines[emulator]' (make run and make test install it)")
ACCOUNT_OPTIONS_TITLE = "the one account (not with --accounts-file, whose accounts set these themselves)"
log = logging.getLogger("talkdesk_emulator")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="talkdesk-emulator", description=__doc__)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--accounts-file", metavar="PATH",
                        help="YAML listing several accounts (see talkdesk_emulator/accounts_file.py), each served "
                             "under /accounts/<id>")
    parser.add_argument("--day-cache-mb", type=float, metavar="MB",
                        help="with --accounts-file: megabytes of generated days shared by all accounts "
                             f"(default {SHARED_DAY_CACHE_BYTES // 2**20}; less memory, more CPU when many "
                             "accounts are busy)")
    add_account_options(parser.add_argument_group(ACCOUNT_OPTIONS_TITLE))
    return parser


def add_account_options(group: Any, with_defaults: bool = True) -> list[argparse.Action]:
    """The one account's options; `with_defaults=False` leaves them None unless given."""
    defaults = EmulatorConfig()

    def default(value: object) -> object:
        return value if with_defaults else None

    return [
        group.add_argument("--seed", type=int, default=default(defaults.seed)),
        group.add_argument("--queues", type=int, default=default(defaults.queues)),
        group.add_argument("--queue-name", action="append", dest="queue_names", default=None, metavar="NAME",
                           help="name of the next queue as Talkdesk spells it (repeatable; --queues grows to fit)"),
        group.add_argument("--agents", type=int, default=default(defaults.agents)),
        group.add_argument("--contacts-per-day", type=int, default=default(defaults.contacts_per_day)),
        group.add_argument("--client-id", default=default(defaults.client_id)),
        group.add_argument("--client-secret", default=default(defaults.client_secret)),
        group.add_argument("--token-ttl", type=int, default=default(defaults.token_ttl), help="seconds (expires_in)"),
        group.add_argument("--report-processing-seconds", type=float,
                           default=default(defaults.report_processing_seconds)),
        group.add_argument("--data-delay-seconds", type=int, default=default(defaults.data_delay_seconds)),
    ]


def build_config(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        seed=args.seed, queues=args.queues, agents=args.agents, contacts_per_day=args.contacts_per_day,
        queue_names=tuple(args.queue_names or ()),
        client_id=args.client_id, client_secret=args.client_secret, token_ttl=args.token_ttl,
        report_processing_seconds=args.report_processing_seconds, data_delay_seconds=args.data_delay_seconds,
    )


def account_options_given(argv: list[str]) -> list[str]:
    """The one account's options present on the command line (e.g. `--seed`)."""
    probe = argparse.ArgumentParser(add_help=False)
    actions = add_account_options(probe, with_defaults=False)
    given, _ = probe.parse_known_args(argv)
    return [action.option_strings[0] for action in actions if getattr(given, action.dest) is not None]


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from talkdesk_emulator.server import EmulatorServer  # werkzeug: the `emulator` extra
    except ModuleNotFoundError as missing:
        raise SystemExit(f"{MISSING_EXTRA} ({missing})") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.day_cache_mb is not None and (not args.accounts_file or args.day_cache_mb < 0):
        parser.error("--day-cache-mb takes megabytes >= 0, and only with --accounts-file")
    if args.accounts_file:
        conflicting = account_options_given(argv if argv is not None else sys.argv[1:])
        if conflicting:
            parser.error(f"{', '.join(conflicting)}: not with --accounts-file (each account sets these in the file)")
        server = serve_accounts(args, EmulatorServer)
    else:
        config = build_config(args)
        server = EmulatorServer(config, host=args.host, port=args.port)
        log.info("Talkdesk emulator on %s (token endpoint %s/oauth/token, client %s); Ctrl-C stops it",
                 server.url, server.url, config.client_id)
    stop_on_termination_signals()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def stop_on_termination_signals() -> None:
    """SIGTERM and SIGINT stop the server, whatever the disposition it inherited: a process started by one that
    ignores them (a test worker, a shell running it in the background) inherits the ignoring, and PID 1 in a
    container has no default action for SIGTERM."""
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)


def serve_accounts(args: argparse.Namespace, server_class: type) -> object:
    from talkdesk_emulator.accounts_file import AccountsFileError, load_accounts_file  # PyYAML: the extra

    try:
        accounts = load_accounts_file(args.accounts_file)
    except AccountsFileError as error:
        raise SystemExit(f"talkdesk-emulator: {error}") from None
    server = server_class(host=args.host, port=args.port, accounts=accounts, day_cache_mb=args.day_cache_mb)
    for account_id, config in accounts.items():
        # The client id, never the secret: logs end up in CI artefacts.
        log.info("account %s: %s (token endpoint %s/oauth/token, client %s)", account_id,
                 server.account_url(account_id), server.account_url(account_id), config.client_id)
    log.info("Talkdesk emulator serving %d accounts on %s (listing at %s/_emulator/accounts); Ctrl-C stops it",
             len(accounts), server.url, server.url)
    return server


if __name__ == "__main__":
    main()

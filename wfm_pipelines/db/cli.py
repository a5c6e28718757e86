"""`wfm-db upgrade` / `wfm-db current`: the WFM database schema from the command line."""

from __future__ import annotations

import argparse
import os
import sys

from wfm_pipelines.db.engine import create_wfm_engine, current_revision, head_revision, safe_url, upgrade_to_head


def _default_url() -> str:
    from wfm_pipelines.settings import default_database_url, load_dotenv_once

    load_dotenv_once()
    return os.environ.get("WFM_DATABASE_URL") or default_database_url()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wfm-db", description="Manage the WFM database schema.")
    parser.add_argument("--url", help="SQLAlchemy URL (default: WFM_DATABASE_URL, else the SQLite file under DAGSTER_HOME)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("upgrade", help="upgrade the schema to the newest revision")
    commands.add_parser("current", help="print the schema revision of the database")
    args = parser.parse_args(argv)

    url = args.url or _default_url()
    try:
        engine = create_wfm_engine(url)
    except ValueError as exc:
        print(f"wfm-db: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "upgrade":
            before = current_revision(engine)
            upgrade_to_head(engine)
            after = current_revision(engine)
            change = "already at head" if before == after else f"upgraded from {before or 'empty'}"
            print(f"{safe_url(engine.url)}: revision {after} ({change})")
        else:
            revision = current_revision(engine)
            marker = " (head)" if revision == head_revision() else ""
            print(f"{safe_url(engine.url)}: revision {revision or 'none'}{marker}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

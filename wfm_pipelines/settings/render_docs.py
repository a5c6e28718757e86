"""Writes docs/configuration.md and deploy/wfm.env.example from the variable registry (`variables.py`), so each
variable is described in one place. Run from the repository's root:

    python -m wfm_pipelines.settings.render_docs          # write both files
    python -m wfm_pipelines.settings.render_docs --check  # exit 1, naming the stale files, when either differs
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from wfm_pipelines.settings.variables import DEPLOYMENT, SECTIONS, VARIABLES, Variable

CONFIGURATION_PAGE = "docs/configuration.md"
ENV_EXAMPLE = "deploy/wfm.env.example"
WRITTEN_BY = "Written by `python -m wfm_pipelines.settings.render_docs` from wfm_pipelines/settings/variables.py"

PAGE_INTRODUCTION = f"""\
# Configuration

<!-- {WRITTEN_BY}; edit that file, not this page (a test fails when the two disagree). -->

Every variable is read and checked when the settings load (`load_settings`), so `dagster definitions validate`
fails on a bad value: the message starts with the variable's name, says what is wrong and what is expected, and
never shows a secret (client secrets never, URL passwords hidden). An unset or blank variable takes its default;
surrounding spaces are ignored. A `.env` file in the working directory is read too; real environment variables win.
Secrets reach Dagster as `dagster.EnvVar`s of their variables, never as values. `{ENV_EXAMPLE}` is the
deployment's example of the variables to set.
"""

ENV_EXAMPLE_HEADER = f"""\
# Copy to deploy/wfm.env (never commit it) and fill in. docker compose gives these variables to every
# wfm_pipelines container: the code server (and the runs it starts), the daemon, the webserver and the workers.
# {WRITTEN_BY};
# docs/configuration.md describes every variable.
"""

# The example's groups, in order: a comment, then the variables it sets (the values are the registry's examples).
ENV_EXAMPLE_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Talkdesk: the account of a single-account deployment.\n"
     "With WFM_ACCOUNTS_FILE, each account's client secret is the variable its `client_secret_env` names: add it here.",
     ("TALKDESK_BASE_URL", "TALKDESK_API_URL", "TALKDESK_CLIENT_ID", "TALKDESK_CLIENT_SECRET", "WFM_HISTORY_START")),
    ("PostgreSQL (the compose file's `postgres` service): one password, used by the server, the Dagster instance\n"
     "and the WFM database URL.",
     ("POSTGRES_PASSWORD", "DAGSTER_PG_PASSWORD", "WFM_DATABASE_URL")),
    ("RabbitMQ (the `rabbitmq` service) and the broker URL the executor and the workers use.",
     ("RABBITMQ_DEFAULT_PASS", "WFM_CELERY_BROKER_URL")),
)


def configuration_page() -> str:
    parts = [PAGE_INTRODUCTION]
    for section, about in SECTIONS.items():
        parts.append(f"\n## {section}\n\n{about}\n\n| variable | meaning | valid values | default | secret |\n"
                     "|---|---|---|---|---|\n")
        parts += [_row(variable) for variable in VARIABLES if variable.section == section]
    return "".join(parts)


def _row(variable: Variable) -> str:
    values = variable.documented_values or "-"
    default = "-" if variable.section == DEPLOYMENT else variable.documented_default
    return (f"| `{variable.name}` | {variable.description} | {values} | {default} | "
            f"{'yes' if variable.secret else ''} |\n")


def env_example() -> str:
    examples = {variable.name: variable.example for variable in VARIABLES if variable.example is not None}
    grouped = [name for _, names in ENV_EXAMPLE_GROUPS for name in names]
    if sorted(grouped) != sorted(examples):
        raise ValueError(f"the example's groups name {sorted(grouped)}, the registry's examples {sorted(examples)}")
    blocks = [ENV_EXAMPLE_HEADER]
    for comment, names in ENV_EXAMPLE_GROUPS:
        lines = [f"# {line}" for line in comment.splitlines()] + [f"{name}={examples[name]}" for name in names]
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def rendered() -> dict[str, str]:
    """Each generated file's path under the repository and its content."""
    return {CONFIGURATION_PAGE: configuration_page(), ENV_EXAMPLE: env_example()}


def stale_files(root: Path) -> list[str]:
    """The generated files under `root` whose content is not what the registry renders."""
    stale = []
    for path, text in rendered().items():
        file = root / path
        if not file.exists() or file.read_text(encoding="utf-8") != text:
            stale.append(path)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report the stale files (exit 1 when any)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository's root (default: here)")
    arguments = parser.parse_args(argv)
    if arguments.check:
        stale = stale_files(arguments.root)
        for path in stale:
            print(f"{path} is stale: run python -m wfm_pipelines.settings.render_docs", file=sys.stderr)
        return 1 if stale else 0
    for path, text in rendered().items():
        (arguments.root / path).write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

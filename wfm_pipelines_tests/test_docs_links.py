"""The repository's documentation holds together on a fresh clone: every relative link of README.md, docs/*.md and
talkdesk_emulator/README.md names a file that exists (and a heading of it, where it names one); every page the
code cites (`docs/counting-rules.md#seams`) exists with that heading; the README stays a five-minute read; and
no product or emulator file cites `../shared/`, a folder that is not in the repository.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README_MAX_LINES = 250

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", flags=re.M)
# A page cited from code or a test: `docs/<page>.md` or `talkdesk_emulator/README.md`, with an optional anchor.
CITED_PAGE = re.compile(r"\b((?:docs/[\w.-]+|talkdesk_emulator/README)\.md)(#[\w-]+)?")


def documentation_pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "talkdesk_emulator" / "README.md"]


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, markup and punctuation dropped (but `-` and `_`), spaces
    as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors_of(text: str) -> set[str]:
    """Every heading's anchor, the repeated ones numbered as GitHub numbers them (`name-1`, `name-2`)."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in HEADING.findall(FENCE.sub("", text)):
        name = anchor(heading)
        count = seen.get(name, 0)
        seen[name] = count + 1
        found.add(name if count == 0 else f"{name}-{count}")
    return found


def _target_problem(where: str, path: Path, fragment: str | None) -> str | None:
    relative = path.resolve().relative_to(REPO.resolve()).as_posix() if path.resolve().is_relative_to(REPO.resolve()) \
        else str(path)
    if not path.exists():
        return f"{where}: {relative} does not exist"
    if fragment and path.is_file() and fragment not in anchors_of(path.read_text()):
        return f"{where}: {relative} has no heading #{fragment}"
    return None


def link_problems(page: Path, text: str) -> list[str]:
    """The relative links of one page (outside code blocks) that name no existing file or heading."""
    problems = []
    where = page.relative_to(REPO).as_posix()
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: are not the repository's
            continue
        file_part, _, fragment = target.partition("#")
        path = page if not file_part else page.parent / file_part
        problem = _target_problem(f"{where} -> {target}", path, fragment or None)
        if problem:
            problems.append(problem)
    return problems


def cited_page_problems(texts: Iterable[tuple[str, str]]) -> list[str]:
    """Pages (and headings) cited from code and tests, given as (path, text), that do not exist."""
    problems = []
    for name, text in texts:
        for page, fragment in CITED_PAGE.findall(text):
            problem = _target_problem(f"{name} cites {page}{fragment}", REPO / page, fragment.lstrip("#") or None)
            if problem:
                problems.append(problem)
    return problems


def shared_citations(texts: Iterable[tuple[str, str]]) -> list[str]:
    """`path:line: text` of every line, of the (path, text) given, that cites ../shared."""
    return [f"{name}:{number}: {line.strip()}"
            for name, text in texts for number, line in enumerate(text.splitlines(), 1) if "../shared" in line]


def texts_of(files: Iterable[Path]) -> list[tuple[str, str]]:
    return [(file.relative_to(REPO).as_posix(), file.read_text()) for file in files]


def source_files(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (REPO / folder).rglob("*")
                  if path.is_file() and path.suffix in {".py", ".md", ".yaml", ".yml", ".toml", ".sh", ".sql"})


# --- the checks ----------------------------------------------------------------------------------------------


def test_every_relative_link_of_the_documentation_resolves():
    problems = [problem for page in documentation_pages() for problem in link_problems(page, page.read_text())]
    assert problems == []


def test_every_page_the_code_cites_exists_with_its_heading():
    files = [path for path in source_files("wfm_pipelines", "talkdesk_emulator", "benchmarks", "wfm_pipelines_tests",
                                           "talkdesk_emulator_tests", "deploy", "scripts")
             if path != Path(__file__).resolve()]  # this file plants citations of missing pages on purpose
    assert cited_page_problems(texts_of(files)) == []


def test_the_readme_is_a_five_minute_read():
    lines = len((REPO / "README.md").read_text().splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move detail to a page under docs/"


def test_no_product_or_emulator_file_cites_the_folder_outside_the_repository():
    assert shared_citations(texts_of(source_files("wfm_pipelines", "talkdesk_emulator"))) == []


# --- the checks can fail -------------------------------------------------------------------------------------


def test_a_broken_link_or_heading_is_caught():
    operating = REPO / "docs" / "operating.md"
    text = operating.read_text()
    assert "(deployment.md#postgresql)" in text
    broken_file = link_problems(operating, text.replace("(deployment.md#postgresql)", "(deploy.md#postgresql)"))
    broken_heading = link_problems(operating, text.replace("(deployment.md#postgresql)", "(deployment.md#postgres)"))
    assert broken_file == ["docs/operating.md -> deploy.md#postgresql: docs/deploy.md does not exist"]
    assert broken_heading == ["docs/operating.md -> deployment.md#postgres: docs/deployment.md has no heading #postgres"]


def test_a_link_inside_a_code_block_is_not_a_link():
    readme = REPO / "README.md"
    assert link_problems(readme, "```\n[x](nowhere.md)\n```\n") == []


def test_a_cited_heading_that_is_gone_is_caught():
    text = '"""By docs/counting-rules.md#seams, docs/counting-rules.md#no-such-rule and docs/nowhere.md."""'
    assert cited_page_problems([("module.py", text)]) == [
        "module.py cites docs/counting-rules.md#no-such-rule: docs/counting-rules.md has no heading #no-such-rule",
        "module.py cites docs/nowhere.md: docs/nowhere.md does not exist"]


def test_a_shared_citation_is_caught():
    schedules = REPO / "wfm_pipelines" / "defs" / "schedules.py"
    text = schedules.read_text().replace("(docs/counting-rules.md#the-15-minute-tick-and-late-data)",
                                        "(`../shared/wfm/DOMAIN-NOTES.md` 1.1)")
    assert [line.split(": ", 1)[1] for line in shared_citations([("schedules.py", text)])] == [
        "(`../shared/wfm/DOMAIN-NOTES.md` 1.1)."]


def test_anchors_are_github_anchors():
    assert anchor("What `make bench` measures") == "what-make-bench-measures"
    assert anchor("Steps on Celery workers (`WFM_EXECUTOR=celery`)") == "steps-on-celery-workers-wfm_executorcelery"
    assert anchor("2026-12-07: report formats (issue 21)") == "2026-12-07-report-formats-issue-21"
    assert anchors_of("## A\n## A\n") == {"a", "a-1"}

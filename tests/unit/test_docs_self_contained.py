"""The repository stands on its own (issue 13 item 6).

Code, tests and docs cite the repository's own documents for the
decisions they rely on (doc/cli.md for the CLI and its exit codes,
doc/api-ref.md for the API, doc/deployment.md, doc/architecture.md,
doc/lab.md, ...), never documents that are not in it: the product's
early reference texts ("seed 000" ...), a DESIGN.md or lab notes. This
test greps every source and documentation file for such citations so
that they cannot come back. Release notes keep their history and are
not checked.
"""
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
THIS = os.path.abspath(__file__)

EXTENSIONS = (".py", ".md", ".toml", ".cfg", ".conf", ".ini", ".yaml",
              ".yml", ".txt", ".sample", ".rst")
SKIP_DIRS = {".git", ".venv", ".lab", "releasenotes", "__pycache__",
             ".mypy_cache", ".ruff_cache", ".pytest_cache", ".grimp_cache",
             ".import_linter_cache", "node_modules", "build", "dist",
             "test-results"}

# Citations of documents outside the repository.
PATTERNS = [re.compile(p, re.IGNORECASE) for p in (
    r"(?<![a-z])seeds?[ _-]?0\d\d",  # "seed 000", "seeds 003", test_seed_004
    r"\bseeds? \d\d\d\b",
    r"\bseed'?s'?\s+(sample|example|step|wording|table|report|fields?|"
    r"rules?|check mark|cross)",
    r"\bthe seeds?\b(?!\s+(data|both|one|the|a)\b)",
    r"\bseeds'",
    r"\bDESIGN\.md\b",
    r"\blab[- _]notes\b",
)]


def _is_venv(path):
    return os.path.exists(os.path.join(path, "pyvenv.cfg"))


def _files():
    lab_dir = os.environ.get("PROTECTOR_LAB_DIR")
    lab_dir = os.path.abspath(lab_dir) if lab_dir else None
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(
            d for d in dirs
            if d not in SKIP_DIRS and not d.endswith(".egg-info")
            and not _is_venv(os.path.join(top, d))
            and os.path.join(top, d) != lab_dir)
        for name in sorted(files):
            path = os.path.join(top, name)
            if name.endswith(EXTENSIONS) and path != THIS:
                yield path


def find_citations():
    found = []
    for path in _files():
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.readlines()
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(lines, 1):
            if any(p.search(line) for p in PATTERNS):
                found.append("%s:%d: %s" % (os.path.relpath(path, ROOT),
                                            number, line.strip()))
    return found


def test_no_citation_of_documents_outside_the_repository():
    found = find_citations()
    assert not found, (
        "cite the repository's own doc (doc/cli.md, doc/api-ref.md, "
        "doc/deployment.md, doc/architecture.md, doc/lab.md, ...) instead "
        "of documents outside it; write the fact there first if it is "
        "missing:\n" + "\n".join(found))


@pytest.mark.parametrize("line", [
    "CLI exit codes are derived from `code` (seed 000)",
    "as seeds 003/004 say", "def test_seed_004_inline_comment():",
    "Seed 003 troubleshooting", "the seed's check mark",
    "print the text reports of the seeds", "(see DESIGN.md)",
    "(lab-notes/storage-research.md section 4)", "see the lab notes",
])
def test_the_patterns_catch_citations(line):
    assert any(p.search(line) for p in PATTERNS), line


@pytest.mark.parametrize("line", [
    "protector-lab up  # build, start and seed both sites",
    '"""Build, start and seed one lab site.',
    "random.seed(4)", "def seed(ops_api, keystone):",
    "--seed: pip and setuptools inside", "Issue 14 item 16",
    "the seeded resources", "fixtures seed the database",
])
def test_the_patterns_leave_other_uses_of_seed_alone(line):
    assert not any(p.search(line) for p in PATTERNS), line

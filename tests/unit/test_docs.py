"""The user docs: the generated scenario reference is current and complete, every relative
link in README.md and docs/ leads to a file, nothing cites a file the repository does not
contain, and the user docs carry no development history (issue numbers, commit hashes)."""
import importlib
import re
from pathlib import Path

import pytest

from ionmc import reference
from ionmc.mechanisms.registry import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
#: files that may still name DESIGN.md or REFERENCES.md (design notes the repository does
#: not ship): each was being changed elsewhere when the citations were replaced, and is to
#: cite the primary source or the docs page instead, after which its entry goes. Empty this
#: set; do not add to it.
CITATION_EXCEPTIONS: set[str] = set()
#: where such a citation would dangle for a user or a contributor
CITATION_TREES = ("README.md", "Makefile", "docs", "src", "tests", "scenarios", "results",
                  "benchmarks", "verification")


def test_the_scenario_reference_is_current():
    page = ROOT / "docs" / "scenario-reference.md"
    assert page.read_text() == reference.page(), \
        "docs/scenario-reference.md is stale: regenerate it with `python -m ionmc.reference`"


def test_every_key_and_type_has_a_meaning():
    v = importlib.import_module("ionmc.scenario.validate")
    for where, schema in (("scenario", v.SCENARIO_KEYS), ("species.NAME", v.SPECIES_KEYS),
                          ("compartments.NAME", v.COMPARTMENT_KEYS),
                          ("membranes.NAME", v.MEMBRANE_KEYS)):
        undocumented = [k for k in schema if not reference.CORE[where].get(k)]
        assert not undocumented, f"[{where}] keys without a meaning in ionmc/reference.py"
    assert set(REGISTRY) <= set(reference.TYPES), "a mechanism type has no line in TYPES"
    for t, mod in REGISTRY.items():
        assert all(e[1] for e in mod.PARAMS.values()), f"{t}: a PARAMS entry has no meaning"


def _links(text):
    """(file, anchor) of every relative inline link of a Markdown text; file "" for an
    anchor on the same page."""
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if not re.match(r"[a-z][a-z0-9+.-]*:", target):  # not http:, mailto:
            path, _, anchor = target.partition("#")
            yield path, anchor


def _anchors(page):
    """The heading anchors a forge makes for a Markdown page (GitHub's rule: lower case,
    punctuation dropped, spaces to '-', '-1', '-2' ... for repeats)."""
    seen, out = {}, set()
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # no headings in code
    for title in re.findall(r"^#{1,6} +(.+?) *#* *$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file(page):
    missing = []
    for path, anchor in _links(page.read_text()):
        target = (page.parent / path) if path else page
        if not target.exists():
            missing.append(path)
        elif anchor and target.suffix == ".md" and anchor not in _anchors(target):
            missing.append(f"{path}#{anchor}")
    assert not missing, f"{page.relative_to(ROOT)} links to missing files or headings: {missing}"


def test_nothing_cites_a_file_the_repository_does_not_contain():
    cites = set()
    for tree in CITATION_TREES:
        p = ROOT / tree
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        for f in files:
            if f.suffix not in (".py", ".md", ".toml", ".txt", "") or "__pycache__" in f.parts:
                continue
            for line in f.read_text(errors="replace").splitlines():
                # a line that checks their absence (`"DESIGN.md" not in text`) cites nothing
                if re.search(r"\b(DESIGN|REFERENCES)\.md\b", line) and " not in " not in line:
                    cites.add(str(f.relative_to(ROOT)))
    cites.discard("tests/unit/test_docs.py")  # this file names them to look for them
    new = sorted(cites - CITATION_EXCEPTIONS)
    assert not new, f"cite DESIGN.md or REFERENCES.md, which users do not have: {new}"


#: commit hashes the user docs may name: versions of other projects they compare against,
#: not ionmc's history
EXTERNAL_COMMITS = {"b5fe0aa"}  # CINPLA/edNEGmodel, the code docs/validation.md runs


def _commit_hashes(text):
    """Git commit hashes in a text: 7-40 hex digits standing alone or in backticks, with at
    least one digit and one letter, and not a number in e-notation (6.02e23, PLoS e1003386)."""
    for m in re.finditer(r"(?<![\w.:/+-])`?([0-9a-f]{7,40})`?(?![\w-]|\.\w)", text):
        h = m.group(1)
        if re.search(r"[a-f]", h) and re.search(r"\d", h) and not re.fullmatch(r"\d*e\d+", h):
            yield h


def test_commit_hashes_are_found():
    assert list(_commit_hashes("switches (735b02a) against `58bd570`; fixed in c65e6da.")) == \
        ["735b02a", "58bd570", "c65e6da"]
    assert not list(_commit_hashes("N_A 6.02214076e23, 1.41241e4, PLoS 9:e1003386, "
                                   "numba-3fa2b1c9d, 1000000, deadbeef"))


def test_the_user_docs_carry_no_development_history():
    """No issue numbers and no commit hashes (docs/changelog.md included: it names versions)."""
    user = PAGES + sorted((ROOT / "scenarios").glob("*.toml"))
    hits = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in user
            for m in re.finditer(r"(?i)\bissues? *#?\d+|(?<![\w&])#\d+\b", p.read_text())]
    hits += [f"{p.relative_to(ROOT)}: {h}" for p in user
             for h in _commit_hashes(p.read_text()) if h not in EXTERNAL_COMMITS]
    assert not hits


def test_the_readme_is_a_front_door():
    assert len((ROOT / "README.md").read_bytes()) < 10_500
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (ROOT / "README.md").read_text()):
        assert (ROOT / image).stat().st_size < 200_000


def test_every_docs_page_the_code_names_exists():
    """Docstrings, comments and scenario headers cite docs pages by path
    (`docs/physics.md, "Energy budget"`): each path must be a page."""
    named = set()
    for tree in CITATION_TREES:
        p = ROOT / tree
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        for f in files:
            if f.suffix in (".py", ".toml", "") and "__pycache__" not in f.parts:
                named |= set(re.findall(r"\bdocs/[\w./-]+\.md\b", f.read_text(errors="replace")))
    assert not [n for n in sorted(named) if not (ROOT / n).exists()]

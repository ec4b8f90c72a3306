"""The rule book: one self-contained HTML page a clinician reads and signs, for `flask rules book` and /staff/rules.

It lives in the web part, not at the top beside cli.py, so the staff pages may
import it (tests/test_layering.py); it reads the Spanish catalog with Babel,
which the rules part may not import.

Where each rule comes from in triage.md is read from the `# --- ... (triage.md,
...)` section comments of the rule file (no key is added to rules.yaml): the
rows, sections and headings they name are looked up in triage.md, and a
pattern rule also points at its pattern's row.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from jinja2 import Environment, FileSystemLoader, select_autoescape

from symptomcheck.rules import coverage, vignettes, wording
from symptomcheck.rules.loader import Rule, RuleSet

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("SYMPTOMCHECK_SHARED", ROOT.parent / "shared"))
TRIAGE_FILE = SHARED / "clinical" / "triage.md"
SPANISH_CATALOG = ROOT / "symptomcheck" / "translations" / "es" / "LC_MESSAGES" / "messages.po"


def default_case_files() -> list[Path]:
    """Return every worked-case file: the clinic's vignettes and the project's own."""
    return [SHARED / "clinical" / "vignettes.yaml", *sorted((ROOT / "tests" / "vignettes").glob("*.yaml"))]


STYLE = """
body { font: 11pt/1.45 Georgia, "DejaVu Serif", serif; color: #111; margin: 2rem auto; max-width: 52rem; }
body { padding: 0 1rem; }
h1, h2, h3 { font-family: "DejaVu Sans", Arial, sans-serif; line-height: 1.2; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #333; padding-bottom: .2rem; margin-top: 2rem; break-after: avoid; }
h3 { font-size: 1.05rem; margin: 0 0 .3rem; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: .85em; background: #f1f1f1; padding: 0 .15em; }
.meta { margin: 0 0 1rem; }
.meta dt { font-weight: bold; float: left; clear: left; width: 10rem; }
.meta dd { margin: 0 0 .2rem 10rem; }
.rule { border: 1px solid #999; border-left: 5px solid #333; padding: .5rem .8rem; margin: .8rem 0; }
.rule { break-inside: avoid; }
.rule dl { margin: .3rem 0 0; display: grid; grid-template-columns: 8.5rem 1fr; gap: .25rem .7rem; }
.rule dt { font-weight: bold; font-size: .85rem; font-family: "DejaVu Sans", Arial, sans-serif; }
.rule dd { margin: 0; }
.rule h3 .line { font-weight: normal; font-size: .8rem; color: #555; }
.level { break-before: page; } .level.first { break-before: auto; }
.level > h3 { break-after: avoid; }
blockquote { margin: .3rem 0 .6rem; padding-left: .8rem; border-left: 3px solid #bbb; font-size: .9rem; }
.rule ul { margin: .1rem 0; padding-left: 1.2rem; }
.level-emergency { border-left-color: #b00020; } .level-urgent { border-left-color: #d35400; }
.level-soon { border-left-color: #b7950b; } .level-routine { border-left-color: #1e6bb8; }
.level-self_care { border-left-color: #2e7d32; }
.lang { color: #555; font-size: .8rem; font-family: "DejaVu Sans", Arial, sans-serif; }
.source { font-size: .9rem; }
.cases { font-size: .85rem; } .case { white-space: nowrap; }
.none { color: #777; font-style: italic; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #999; padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; }
.proved { color: #1b5e20; font-weight: bold; } .broken { color: #b00020; font-weight: bold; }
.sign { margin-top: 2rem; border: 1px solid #333; padding: .8rem; break-inside: avoid; }
.sign p { margin: 1.2rem 0 .2rem; }
@media (max-width: 40rem) {
  body { margin: 1rem auto; overflow-wrap: anywhere; }
  .rule dl { grid-template-columns: 1fr; gap: 0 .7rem; }
  .rule dd { margin-bottom: .4rem; }
  .meta dt { float: none; width: auto; } .meta dd { margin-left: 0; }
  .case { white-space: normal; }
  table { display: block; overflow-x: auto; }
}
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-before: page; }
  h2.first { break-before: auto; }
  a { color: inherit; text-decoration: none; }
}
@page { size: A4; margin: 16mm 14mm; }
"""
# For the Content-Security-Policy of /staff/rules: this inline style, and no other, may apply.
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode("utf-8")).digest()).decode("ascii")


Translate = Callable[[str | None], str | None]


@dataclass(frozen=True)
class Source:
    """A line of triage.md a rule comes from: its number, what the rule file calls it, and its words."""

    line: int
    name: str
    text: str


@dataclass(frozen=True)
class Entry:
    """One rule as the book shows it."""

    rule: Rule
    outline: wording.Outline
    reason: str
    reason_es: str | None
    note: str | None
    note_es: str | None
    section: str  # the rule file's section comment
    sources: tuple[Source, ...]
    cases: tuple[str, ...]


@dataclass
class Book:
    rules: RuleSet
    generated: str
    levels: list[tuple[dict[str, Any], list[Entry]]] = field(default_factory=list)
    patterns: list[tuple[dict[str, Any], list[Entry]]] = field(default_factory=list)
    notes: list[Entry] = field(default_factory=list)
    guarantees: list[dict[str, object]] = field(default_factory=list)
    guarantees_source: str = ""
    proof_seconds: float = 0.0
    proof_warnings: tuple[str, ...] = ()
    figures: coverage.Coverage | None = None
    case_files: list[str] = field(default_factory=list)
    triage_file: str = ""
    digest: str = ""  # the rule file's SHA-256: what the clinician signs is exactly this file


def build(
    rules: RuleSet,
    case_files: Sequence[str | Path] | None = None,
    guarantees_file: str | Path | None = None,
    triage_file: str | Path | None = None,
    emergency_number: str = "911",
    clinic_name: str = "the clinic",
) -> str:
    """Return the rule book of a rule set as one HTML page."""
    files = [Path(path) for path in (case_files if case_files is not None else default_case_files())]
    cases = [case for path in files if path.exists() for case in vignettes.load(path)]
    figures = coverage.measure(rules, cases)
    triage = Path(triage_file) if triage_file else TRIAGE_FILE
    triage_lines = triage.read_text(encoding="utf-8").splitlines() if triage.exists() else []
    spanish = _catalog()

    def fill(text: str | None) -> str | None:
        return text.format(emergency_number=emergency_number, clinic_name=clinic_name) if text else text

    def es(text: str | None) -> str | None:
        message = spanish.get(text) if text else None
        return fill(message.string) if message is not None and message.string else None

    sections = _sections(Path(rules.source))
    fired_by: dict[str, list[str]] = {}
    for outcome in figures.cases:
        for rule_id in outcome.fired:
            fired_by.setdefault(rule_id, []).append(outcome.id)

    def entry(rule: Rule) -> Entry:
        section = sections.get(rule.line, "")
        return Entry(
            rule, wording.outline(rule.condition), fill(rule.reason) or "", es(rule.reason), fill(rule.note),
            es(rule.note), section, tuple(_sources(rule, section, triage_lines)), tuple(fired_by.get(rule.id, [])),
        )  # fmt: skip

    book = Book(rules, datetime.date.today().isoformat(), case_files=[str(path) for path in files if path.exists()])
    book.triage_file = str(triage) if triage_lines else ""
    book.digest = file_digest(rules.source)
    for level in rules.levels:
        words = _words(level.title, level.advice, fill, es) | {"id": level.id, "row": quoted(level.id, triage)}
        book.levels.append((words, [entry(rule) for rule in rules.level_rules if rule.level == level]))
    for pattern in rules.patterns:
        words = _words(pattern.title, pattern.advice, fill, es) | {"id": pattern.id, "row": quoted(pattern.id, triage)}
        chosen = [entry(rule) for rule in rules.pattern_rules if rule.pattern == pattern]
        book.patterns.append((words, chosen))
    book.notes = [entry(rule) for rule in rules.note_rules]
    _prove(book, rules, guarantees_file)
    book.figures = figures
    return _environment().get_template("rulebook.html").render(book=book, style=STYLE, rate=coverage.rate)


def _words(title: str, advice: str, fill: Translate, es: Translate) -> dict[str, str | None]:
    return {"title": fill(title), "advice": fill(advice), "title_es": es(title), "advice_es": es(advice)}


def _prove(book: Book, rules: RuleSet, guarantees_file: str | Path | None) -> None:
    """Run `verify` and keep each guarantee with its proof status."""
    from symptomcheck.rules import verify as verify_module  # z3 loads for the rule book only, not in every worker

    path = guarantees_file or verify_module.DEFAULT_GUARANTEES
    guarantees = verify_module.load_guarantees(path)
    report = verify_module.verify(rules, guarantees)
    broken = {item.guarantee.id: item for item in report.broken}
    book.guarantees_source = str(path)
    book.proof_seconds = report.seconds
    book.proof_warnings = report.warnings
    for guarantee in guarantees.guarantees:
        failure = broken.get(guarantee.id)
        book.guarantees.append(
            {"guarantee": guarantee, "proved": failure is None, "demands": failure.demands if failure else ""}
        )


def file_digest(path: str | Path) -> str:
    """Return a file's SHA-256 in hex, or '' when it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def untranslated(rules: RuleSet) -> list[tuple[str, str]]:
    """Return (where, text) for each title, advice, reason or note that has no Spanish in the catalog."""
    spanish = _catalog()
    texts = [
        (f"{item.id} {kind} {key}", getattr(item, key))
        for kind, items in (("level", rules.levels), ("pattern", rules.patterns))
        for item in items
        for key in ("title", "advice")
    ]
    texts += [(f"reason of rule {rule.id}", rule.reason) for rule in rules.rules]
    texts += [(f"note of rule {rule.id}", rule.note) for rule in rules.rules if rule.note]
    missing = []
    for where, text in texts:
        message = spanish.get(text)
        if message is None or not message.string or message.fuzzy:
            missing.append((where, text))
    return missing


def _catalog() -> Catalog:
    with SPANISH_CATALOG.open("rb") as po_file:
        return read_po(po_file, locale="es")


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(ROOT / "templates"), autoescape=select_autoescape(default=True), trim_blocks=True
    )


SECTION = re.compile(r"^\s*# ---\s*(.*)$")


def _sections(path: Path) -> dict[int, str]:
    """Return, for each line of the rule file, the `# --- ...` section comment above it (joined over its lines)."""
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    current, by_line, number = "", {}, 0
    while number < len(lines):
        match = SECTION.match(lines[number])
        if match:
            text = match.group(1)
            while text.count("(") > text.count(")") and number + 1 < len(lines) and _comment(lines[number + 1]):
                number += 1
                text += " " + lines[number].strip().lstrip("#").strip()
            current = re.sub(r"\s*-+\s*$", "", text).strip()
        number += 1
        by_line[number] = current
    return by_line


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _sources(rule: Rule, section: str, triage: list[str]) -> list[Source]:
    """Return the triage.md lines a section comment names (rows, sections, headings), and the pattern's row."""
    named = section[section.find("(") + 1 :] if "(" in section else ""
    wanted = [(f"| `{row}` |", f"row {row}") for row in re.findall(r'row "([a-z_]+)"', named)]
    wanted += [(f"## {number}.", f"section {number}") for number in re.findall(r"section (\d+)", named)]
    wanted += [(f"## {heading}", f"section {heading}") for heading in re.findall(r'"(\d+\. [^"]+)"', named)]
    wanted += [
        (f"## {number}. {heading}", f"section {number}. {heading}")
        for number, heading in _headings(triage)
        if f'"{heading}"' in named
    ]
    if rule.pattern:
        wanted.append((f"| `{rule.pattern.id}` |", f"row {rule.pattern.id}"))
    return _found(wanted, triage)


def quoted(row: str, triage_file: Path = TRIAGE_FILE) -> Source | None:
    """Return the triage.md table row of a level or pattern."""
    triage = triage_file.read_text(encoding="utf-8").splitlines() if triage_file.exists() else []
    found = _found([(f"| `{row}` |", f"row {row}")], triage)
    return found[0] if found else None


def _found(wanted: list[tuple[str, str]], triage: list[str]) -> list[Source]:
    found: list[Source] = []
    for start, name in wanted:
        for number, text in enumerate(triage, start=1):
            if text.startswith(start) and all(source.line != number for source in found):
                found.append(Source(number, name, _short(text)))
                break
    return found


def _headings(triage: list[str]) -> list[tuple[str, str]]:
    """Return (number, title before the colon) of each numbered heading: ("2", "The pattern")."""
    return [
        (match.group(1), match.group(2))
        for match in (re.match(r"## (\d+)\. ([^:]+)", text) for text in triage)
        if match
    ]


def _short(text: str, limit: int = 2000) -> str:
    text = text.strip("| ").replace("`", "")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

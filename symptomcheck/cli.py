"""`flask rules ...`: check, test and compare rule files without starting the app.

Registered as a Flask CLI plugin (see pyproject.toml) so a broken rule file,
which stops the app from loading, can still be checked. Exit codes: 0 all
good, 1 a problem or a difference was found, 2 a file could not be used.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import click
import yaml

from symptomcheck.rules import coverage, loader, vignettes
from symptomcheck.rules.engine import InvalidAnswers, Result, assess_submission
from symptomcheck.rules.loader import RuleSet
from symptomcheck.rules.problems import RuleFileError


def default_rules_file() -> str:
    """Return the rule file the app uses: SYMPTOMCHECK_RULES_FILE or the published rules.yaml."""
    return os.environ.get("SYMPTOMCHECK_RULES_FILE", str(loader.PUBLISHED_RULES_FILE))


@click.group("rules")
def rules() -> None:
    """Check, test and compare rule files."""


def _load_or_exit(path: str) -> RuleSet:
    try:
        return loader.load(path)
    except RuleFileError as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo(f"{path}: {len(exc.errors)} problem(s); the rule set cannot be used.", err=True)
        raise SystemExit(1) from exc


def _vignettes_or_exit(paths: tuple[str, ...]) -> list[vignettes.Vignette]:
    try:
        return [case for path in paths for case in vignettes.load(path)]
    except vignettes.VignetteFileError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2) from exc


@rules.command("check")
@click.argument("file", required=False)
def check(file: str | None) -> None:
    """Check a rule file and print every problem with its line."""
    path = file or default_rules_file()
    loaded = _load_or_exit(path)
    click.echo(f"{path}: OK, version {loaded.version}, {len(loaded.rules)} rules.")


@rules.command("test")
@click.argument("case_files", nargs=-1, required=True, metavar="VIGNETTES...")
@click.option("--rules", "rules_file", help="The rule file to test (default: the app's).")
@click.option("--verbose", "-v", is_flag=True, help="Print every case, not only those that differ.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures and every case as JSON, for scripts.")
def test(case_files: tuple[str, ...], rules_file: str | None, verbose: bool, as_json: bool) -> None:
    """Run vignette files, print each case whose suggestion differs, and the coverage figures.

    Exits 1 when a case differs, under-triage included.
    """
    loaded = _load_or_exit(rules_file or default_rules_file())
    figures = coverage.measure(loaded, _vignettes_or_exit(case_files))
    if as_json:
        click.echo(json.dumps({"rules": loaded.source, "version": loaded.version} | coverage.as_json(figures)))
    else:
        for case in figures.cases:
            if verbose:
                click.echo(coverage.case_line(case))
            elif not case.matches:
                click.echo(f"MISMATCH {case.id}: {_mismatch(case)}")
        for line in coverage.summary(figures):
            click.echo(line)
        click.echo(f"{figures.matches} of {len(figures.cases)} vignettes match.")
    raise SystemExit(1 if figures.matches < len(figures.cases) or figures.under else 0)


def _mismatch(case: coverage.CaseOutcome) -> str:
    if case.level is None:
        return case.problem or "not assessed"
    problems = []
    if not case.level_matches:
        under = " (UNDER-TRIAGE)" if case.triage == "under" else ""
        problems.append(f"expected level {case.expected_level}, got {case.level}{under}")
    if case.pattern_matches is False:
        problems.append(f"expected pattern {case.expected_pattern}, got {case.pattern}")
    return f"{'; '.join(problems)} (rules that fired: {', '.join(case.fired) or 'none'})"


@rules.command("diff")
@click.argument("old")
@click.argument("new")
@click.argument("case_files", nargs=-1, metavar="[VIGNETTES]...")
@click.option("--stored", is_flag=True, help="Also replay every stored contact request (needs the database).")
def diff(old: str, new: str, case_files: tuple[str, ...], stored: bool) -> None:
    """Show every case whose suggestion would change from OLD to NEW."""
    if not case_files and not stored:
        raise click.UsageError("give vignette files, --stored, or both")
    old_rules, new_rules = _load_or_exit(old), _load_or_exit(new)
    cases = [(case.id, case.answers) for case in _vignettes_or_exit(case_files)]
    if stored:
        cases += _stored_cases()
    if old_rules.version == new_rules.version:
        click.echo(f"warning: the version did not change ({new_rules.version}); a changed rule file needs a new one.")
    changed = 0
    for case_id, answers in cases:
        change = _change(_assess(old_rules, answers), _assess(new_rules, answers))
        if change:
            changed += 1
            click.echo(f"CHANGED {case_id}: {change}")
    texts = list(changed_texts(old_rules, new_rules))
    for where, before, after in texts:
        click.echo(f"TEXT {where}:")
        click.echo(side_by_side(before, after))
    click.echo(f"{changed} of {len(cases)} cases would change (version {old_rules.version} -> {new_rules.version}).")
    raise SystemExit(1 if changed or texts else 0)


def changed_texts(old: RuleSet, new: RuleSet) -> Iterator[tuple[str, str, str]]:
    """Yield (where, old text, new text) for each title, advice, reason or note that differs ('' for none)."""
    for what, before_items, after_items, keys in (
        ("level", old.levels, new.levels, ("title", "advice")),
        ("pattern", old.patterns, new.patterns, ("title", "advice")),
        ("rule", old.rules, new.rules, ("reason", "note")),
    ):
        before_by_id = {item.id: item for item in before_items}
        after_by_id = {item.id: item for item in after_items}
        for item_id in [*before_by_id, *(key for key in after_by_id if key not in before_by_id)]:
            before, after = before_by_id.get(item_id), after_by_id.get(item_id)
            for key in keys:
                old_text, new_text = getattr(before, key, None) or "", getattr(after, key, None) or ""
                if old_text != new_text:
                    yield f"{what} '{item_id}' {key}", old_text, new_text


def side_by_side(before: str, after: str, width: int = 56) -> str:
    """Return two texts in two columns, old on the left and new on the right."""
    left = textwrap.wrap(before, width) or ["(none)"]
    right = textwrap.wrap(after, width) or ["(none)"]
    rows = [f"  {'old':<{width}} | new"]
    for number in range(max(len(left), len(right))):
        old_part = left[number] if number < len(left) else ""
        new_part = right[number] if number < len(right) else ""
        rows.append(f"  {old_part:<{width}} | {new_part}".rstrip())
    return "\n".join(rows)


def _stored_cases() -> list[tuple[str, Mapping[str, Any]]]:
    """Return each stored request as a case named by its reference."""
    from symptomcheck import create_app
    from symptomcheck.records import contact_requests
    from symptomcheck.records.models import db

    with create_app().app_context():
        try:
            stored = contact_requests.stored_request_answers()
            return [(f"request {reference}", answers) for reference, answers in stored]
        finally:
            db.session.remove()
            db.engine.dispose()


def _assess(loaded: RuleSet, answers: Mapping[str, Any]) -> Result | str:
    try:
        return assess_submission(loaded, answers)
    except InvalidAnswers as exc:
        return f"invalid answers ({', '.join(sorted(exc.errors))})"


def _change(before: Result | str, after: Result | str) -> str | None:
    """Describe how a suggestion changes, or return None when it does not."""
    if isinstance(before, str) or isinstance(after, str):
        return None if before == after else f"{_headline(before)} -> {_headline(after)}"
    parts = []
    if (before.level.id, vignettes.pattern_id(before)) != (after.level.id, vignettes.pattern_id(after)):
        warning = " (LESS URGENT)" if after.level.rank > before.level.rank else ""
        parts.append(f"{_headline(before)} -> {_headline(after)}{warning}")
    old_rules, new_rules = [rule.id for rule in before.fired], [rule.id for rule in after.fired]
    if gone := [rule for rule in old_rules if rule not in new_rules]:
        parts.append(f"no longer fires: {', '.join(gone)}")
    if added := [rule for rule in new_rules if rule not in old_rules]:
        parts.append(f"now fires: {', '.join(added)}")
    return "; ".join(parts) or None


def _headline(result: Result | str) -> str:
    if isinstance(result, str):
        return result
    return f"{result.level.id}/{vignettes.pattern_id(result) or 'no pattern'}"


@rules.command("verify")
@click.argument("file", required=False)
@click.option("--guarantees", "guarantees_file", help="The guarantee file (default: the project's guarantees.yaml).")
def verify(file: str | None, guarantees_file: str | None) -> None:
    """Prove every guarantee over every possible set of answers; print a worked case for each broken one."""
    from symptomcheck.rules import verify as verify_module  # z3 loads only for this command, not for every `flask` call

    path = file or default_rules_file()
    guarantees_path = guarantees_file or str(verify_module.DEFAULT_GUARANTEES)
    try:
        loaded = loader.load(path)
        guarantees = verify_module.load_guarantees(guarantees_path)
        report = verify_module.verify(loaded, guarantees)
    except RuleFileError as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        click.echo(f"{len(exc.errors)} problem(s); nothing was proved.", err=True)
        raise SystemExit(2) from exc
    for broken in report.broken:
        click.echo(_broken(guarantees, broken))
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    total, seconds = len(guarantees.guarantees), f"{report.seconds:.1f} s"
    if report.broken:
        click.echo(f"{path}: {len(report.broken)} of {total} guarantees in {guarantees_path} are broken ({seconds}).")
        raise SystemExit(1)
    click.echo(f"{path}: all {total} guarantees in {guarantees_path} hold, version {loaded.version} ({seconds}).")


def _broken(guarantees: Any, broken: Any) -> str:
    """Describe one broken guarantee: where it is, what it demands, and each answer set that breaks it."""
    guarantee = broken.guarantee
    lines = [
        f"BROKEN {guarantees.source}:{guarantee.line}: guarantee '{guarantee.id}': {guarantee.says}",
        f"  the guarantee demands: {broken.demands}",
    ]
    if broken.found:
        return "\n".join([*lines, f"  the rules: {broken.found}"])
    labels = [""] if len(broken.cases) == 1 else [" (before)", " (with more)"]
    cases = []
    for number, (case, label) in enumerate(zip(broken.cases, labels, strict=True), start=1):
        fired = ", ".join(case.fired) or "none"
        lines.append(f"  the rules give{label}: {case.level}, pattern {case.pattern or 'none'} (fired: {fired})")
        suffix = f"-{number}" if len(broken.cases) > 1 else ""
        expect = {"level": case.expect_level} | ({"pattern": case.expect_pattern} if case.expect_pattern else {})
        cases.append(
            {"id": f"{guarantee.id}-found{suffix}", "story": guarantee.says, "answers": case.answers, "expect": expect}
        )
    worked = yaml.safe_dump(cases, sort_keys=False, allow_unicode=True, width=1000)
    lines.append("  as worked cases for a vignette file (set 'expect' to what a clinician expects):")
    return "\n".join(lines + ["    " + line for line in worked.splitlines()])


def _case_files(case_files: tuple[str, ...]) -> list[str]:
    from symptomcheck.web import rulebook

    return list(case_files) or [str(path) for path in rulebook.default_case_files()]


@rules.command("book")
@click.argument("file", required=False)
@click.option("-o", "--output", help="Write the page here (default: print it).")
@click.option(
    "--cases", "case_files", multiple=True, help="A worked-case file (default: the clinic's and the project's)."
)
def book(file: str | None, output: str | None, case_files: tuple[str, ...]) -> None:
    """Write the rule book: one HTML page with every rule in plain words, the proofs and the coverage."""
    from symptomcheck.web import rulebook  # Babel and Jinja load only for this command

    loaded = _load_or_exit(file or default_rules_file())
    files = _case_files(case_files)
    _vignettes_or_exit(tuple(files))
    page = rulebook.build(loaded, files)
    if output is None:
        click.echo(page)
        return
    Path(output).write_text(page, encoding="utf-8")
    click.echo(f"{output}: the rule book of version {loaded.version} ({len(page.encode('utf-8')) / 1024:.0f} KB).")


@rules.command("release")
@click.argument("file")
@click.option("--published", help="The published rule file to compare with (default: the project's rules.yaml).")
@click.option("-o", "--output", help="Where to write the release note (default: release-notes/<version>.md).")
@click.option("--cases", "case_files", multiple=True, help="A worked-case file (default: all of them).")
@click.option("--allow-less-urgent", is_flag=True, help="Release even though some cases become less urgent.")
def release(
    file: str, published: str | None, output: str | None, case_files: tuple[str, ...], allow_less_urgent: bool
) -> None:
    """Check, prove, test and compare a new rule file; refuse it or write its release note for the clinician to sign."""
    from symptomcheck.rules import verify as verify_module
    from symptomcheck.web import rulebook

    new = _load_or_exit(file)
    old = _load_or_exit(published or str(loader.PUBLISHED_RULES_FILE))
    report = verify_module.verify(new, verify_module.load_guarantees(verify_module.DEFAULT_GUARANTEES))
    files = _case_files(case_files)
    cases = _vignettes_or_exit(tuple(files))
    figures = coverage.measure(new, cases)
    changes, less_urgent = [], []
    for case in cases:
        before, after = _assess(old, case.answers), _assess(new, case.answers)
        if change := _change(before, after):
            changes.append((case.id, change))
            if isinstance(before, Result) and isinstance(after, Result) and after.level.rank > before.level.rank:
                less_urgent.append(case.id)
    texts = list(changed_texts(old, new))

    refusals = [f"guarantee '{broken.guarantee.id}' is broken: {broken.demands}" for broken in report.broken]
    refusals += [f"worked case {case.id}: {_mismatch(case)}" for case in figures.cases if not case.matches]
    if less_urgent and not allow_less_urgent:
        refusals.append(f"less urgent than the published rules for: {', '.join(less_urgent)} (--allow-less-urgent)")
    refusals += [f"no Spanish for the {where}: {text}" for where, text in rulebook.untranslated(new)]
    if new.version == old.version:
        refusals.append(f"the version was not updated (still {old.version})")
    if new.reviewed_by == old.reviewed_by:
        refusals.append("reviewed_by was not updated: name who reviewed this version")
    if new.reviewed_on <= old.reviewed_on:
        refusals.append(f"reviewed_on was not updated (it must be after {old.reviewed_on.isoformat()})")
    for refusal in refusals:
        click.echo(f"REFUSED: {refusal}", err=True)
    if refusals:
        click.echo(f"{file}: not released ({len(refusals)} problem(s)).", err=True)
        raise SystemExit(1)

    note = Path(output or Path("release-notes") / f"{new.version}.md")
    note.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Rule set {new.version}: release note",
        "",
        f"- Rule file: `{file}`, SHA-256 `{rulebook.file_digest(file)}`",
        f"- Replaces: version {old.version} (`{old.source}`, reviewed by {old.reviewed_by} on {old.reviewed_on})",
        f"- Reviewed by: {new.reviewed_by}, on {new.reviewed_on.isoformat()}",
        "",
        "## What changed",
        "",
        f"{len(changes)} of {len(cases)} worked cases change:"
        if changes
        else f"No worked case ({len(cases)}) changes.",
        "",
        *[f"- `{case_id}`: {change}" for case_id, change in changes],
        *([""] if changes else []),
    ]
    if less_urgent:
        lines += [f"**Less urgent than before, released with --allow-less-urgent:** {', '.join(less_urgent)}", ""]
    lines += [f"{len(texts)} text(s) the person reads changed:" if texts else "No text the person reads changed.", ""]
    for where, before, after in texts:
        lines += [f"- {where}", f"  - old: {before or '(none)'}", f"  - new: {after or '(none)'}"]
    lines += ["", "## Figures", "", "```", *coverage.summary(figures), "```", "", "## Proofs", ""]
    lines.append(f"All {len(report.proved)} guarantees of `guarantees.yaml` hold ({report.seconds:.1f} s):")
    lines += ["", *[f"- `{guarantee.id}`: {guarantee.says}" for guarantee in report.proved]]
    if report.warnings:
        lines += ["", "Warnings:", "", *[f"- {warning}" for warning in report.warnings]]
    lines += [
        "", "## Sign-off", "",
        f"I have read the rule book and this note for version {new.version} and approve its release.", "",
        "Name: ______________________  Role: ______________________", "",
        "Signature: _________________  Date: ______________________", "",
    ]  # fmt: skip
    note.write_text("\n".join(lines), encoding="utf-8")
    click.echo(f"{file}: version {new.version} may be released; sign {note}.")

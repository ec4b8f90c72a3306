"""Helpers shared by the tests: where things are, and a page checker."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import select

from symptomcheck.records.models import db
from symptomcheck.rules import loader

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SYMPTOMCHECK_SHARED", ROOT.parent / "shared"))
CLINICAL = SHARED / "clinical"
RULES_FILE = ROOT / "rules.yaml"
# Read from the published rules, so a clinical release edits no test.
PUBLISHED_RULES = loader.load(RULES_FILE)
RULES_VERSION = PUBLISHED_RULES.version


def detached_rows(app: Flask, model: Any) -> list[Any]:
    """Return every row of a model, in id order, detached so a test can read them after the app context ends."""
    with app.app_context():
        rows = list(db.session.scalars(select(model).order_by(model.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def empty_tables(app: Flask) -> None:
    """Delete every row of every table, children first."""
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


def check_page(html: str | bytes, language: str = "en") -> BeautifulSoup:
    """Parse a page and check what every page needs: a title, its language, unique ids, labelled inputs."""
    soup = BeautifulSoup(html, "html.parser")
    assert soup.title and soup.title.string and soup.title.string.strip(), "page has no title"
    assert soup.html and soup.html.get("lang") == language
    ids = Counter(tag["id"] for tag in soup.find_all(id=True))
    duplicated = [element_id for element_id, count in ids.items() if count > 1]
    assert not duplicated, f"duplicate ids: {duplicated}"
    for field in soup.find_all(["input", "select", "textarea"]):
        if field.get("type") in {"hidden", "submit"}:
            continue
        assert field.get("id") and soup.find("label", attrs={"for": field["id"]}), f"unlabelled field: {field}"
    for group in soup.find_all("fieldset"):
        assert group.find("legend"), f"fieldset without legend: {group.get('id')}"
    for described in soup.find_all(attrs={"aria-describedby": True}):
        for target in described["aria-describedby"].split():
            assert soup.find(id=target), f"aria-describedby points at missing id {target}"
    for link in soup.find_all("a", href=re.compile("^#")):
        assert link["href"] == "#" or soup.find(id=link["href"][1:]), f"link to missing anchor {link['href']}"
    return soup


def text_of(soup: BeautifulSoup) -> str:
    """Return the page's visible words with spaces collapsed."""
    return " ".join(soup.get_text(" ").split())

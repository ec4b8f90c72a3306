"""English and Spanish: the catalog is complete and current, and every patient page is wholly in Spanish."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup, NavigableString
from flask import Flask
from flask.testing import FlaskClient

from examples import COMPLETE, TO_EACH_LEVEL
from symptomcheck.rules.questions import BY_ID
from tests.helpers import ROOT, check_page, text_of
from tests.test_journey import Patient

CATALOGS = ROOT / "symptomcheck" / "translations"
SPANISH_PO = CATALOGS / "es" / "LC_MESSAGES" / "messages.po"
SPANISH_MO = CATALOGS / "es" / "LC_MESSAGES" / "messages.mo"
PLACEHOLDERS = (r"%\(\w+\)s", r"\{\w+\}", r"<[^>]+>")
CONTACT = {"name": "Ana", "phone": "(202) 555-0143", "email": "", "preferred_time": "any", "consent": "y"}
# Words that are the same in both languages, or are not words to translate.
SAME_IN_BOTH = {"No", "Error:", "English", "Español"}


def spanish_catalog() -> Any:
    with SPANISH_PO.open("rb") as handle:
        return read_po(handle)


def entries(catalog: Any) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Yield each message's English id and its translations (one, or one per plural form)."""
    for message in catalog:
        if message.id:
            english = message.id[0] if isinstance(message.id, list | tuple) else message.id
            translations = tuple(message.string) if isinstance(message.string, list | tuple) else (message.string,)
            yield english, translations


def test_every_text_has_a_spanish_translation() -> None:
    catalog = spanish_catalog()
    assert len(catalog) > 250
    untranslated = [english for english, translations in entries(catalog) if not all(translations)]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert not untranslated
    assert not fuzzy


def test_translations_keep_placeholders_and_markup() -> None:
    broken = [
        (english, translated)
        for english, translations in entries(spanish_catalog())
        for translated in translations
        for pattern in PLACEHOLDERS
        if sorted(re.findall(pattern, english)) != sorted(re.findall(pattern, translated))
    ]
    assert not broken


def test_the_catalog_lists_every_text_of_the_code_templates_questions_and_rules(tmp_path: Path) -> None:
    """Extract again: a text added without `make translations` is not in the catalog, and fails here."""
    fresh = tmp_path / "messages.pot"
    command = [str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg", "-k", "lazy_gettext"]
    subprocess.run([*command, "-o", str(fresh), "--no-location", "."], cwd=ROOT, check=True, capture_output=True)  # noqa: S603
    with fresh.open("rb") as handle:
        wanted = {english for english, _ in entries(read_po(handle))}
    have = {english for english, _ in entries(spanish_catalog())}
    assert sorted(wanted - have) == []
    assert sorted(have - wanted) == []  # nothing stale either
    assert BY_ID["neck_origin"].label in wanted
    assert any("{emergency_number}" in text for text in wanted)  # rule texts are in


def test_the_compiled_catalog_matches_its_source() -> None:
    with SPANISH_MO.open("rb") as handle:
        compiled = dict(entries(read_mo(handle)))
    assert compiled == dict(entries(spanish_catalog()))


# --- The pages -------------------------------------------------------------------------------------------


def visible_texts(page: BeautifulSoup) -> set[str]:
    """Return each piece of text a person can see or hear: text nodes, and labels in attributes."""
    texts = {" ".join(text.split()) for text in page.find_all(string=True) if type(text) is NavigableString}
    for attribute in ("aria-label", "title", "alt", "placeholder"):
        texts.update(tag[attribute] for tag in page.find_all(attrs={attribute: True}))
    texts.update(tag["content"] for tag in page.find_all("meta", attrs={"name": "description"}))
    return {text for text in texts if re.search(r"[A-Za-zÁÉÍÓÚÑáéíóúñ]{2}", text)}


def every_patient_page(client: FlaskClient, language: str) -> Iterator[tuple[str, BeautifulSoup]]:
    """Walk every patient page and state (errors included); yield each page's name and parsed HTML."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    patient = Patient(client, language)

    def page(name: str, url: str) -> tuple[str, BeautifulSoup]:
        return name, check_page(client.get(url).data, language)

    def posted(name: str, url: str, data: dict[str, Any]) -> tuple[str, BeautifulSoup]:
        return name, check_page(patient.submit(url, data).data, language)

    yield page("start", "/")
    yield page("learn", "/learn")
    yield page("not found", "/no-such-page")
    for slug in ("about-you", "warning-signs", "neck", "headaches", "treatment"):
        yield posted(f"{slug} with errors", f"/questions/{slug}", {})
        patient.answer_all(COMPLETE)
        yield page(slug, f"/questions/{slug}")
    yield posted("warning-signs with both ticked", "/questions/warning-signs",
                 {"red_flags": ["fever"], "no_red_flags": "y"})  # fmt: skip
    patient.answer_all(COMPLETE)
    yield page("check your answers", "/check-answers")
    for level, (change, _) in TO_EACH_LEVEL.items():
        patient.answer_all({**COMPLETE, **change})
        yield page(f"result {level}", "/result")
    yield page("contact", "/contact")
    yield posted("contact with errors", "/contact", {"phone": "12345", "email": "ana@"})
    patient.submit("/contact", CONTACT)
    yield page("contact sent", "/contact/sent")
    yield page("result after contact", "/result")
    patient.submit("/questions/about-you", {"age_band": "18_49"})
    patient.submit("/questions/warning-signs", {"red_flags": ["thunderclap"]})
    yield page("result emergency", "/result")


def test_every_patient_page_is_wholly_in_spanish(make_app: Any) -> None:
    """A text the same on the English and the Spanish page is a text that was not translated."""
    app: Flask = make_app(RATELIMIT_ENABLED=False)  # two walks post more than a person would in a minute
    english = dict(every_patient_page(app.test_client(), "en"))
    spanish = dict(every_patient_page(app.test_client(), "es"))
    assert english.keys() == spanish.keys()
    assert len(spanish) == 24  # every page state walked above, the teaching page included
    untranslated = {}
    for name, page in spanish.items():
        same = visible_texts(page) & visible_texts(english[name])
        same -= SAME_IN_BOTH | {app.config["CLINIC_NAME"]}
        same = {text for text in same if not re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", text)}  # reference codes
        if same:
            untranslated[name] = sorted(same)
    assert untranslated == {}


def test_the_spanish_emergency_result_still_says_call_911_now(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es-US,es;q=0.9,en;q=0.5"
    patient = Patient(client, "es")
    patient.submit("/questions/about-you", {"age_band": "18_49"})
    patient.submit("/questions/warning-signs", {"red_flags": ["thunderclap"]})
    page = check_page(client.get("/result").data, "es")
    assert page.h1 is not None
    assert "911" in page.h1.get_text()
    assert page.find("a", href="tel:911") is not None
    assert "diagnóstico" in text_of(page)  # "this is not a diagnosis", in the disclaimer


def test_the_language_comes_from_the_browser_and_the_switch_keeps_the_answers(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9,es;q=0.8"
    assert check_page(client.get("/").data, "es")  # French is not offered; Spanish comes next
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    patient = Patient(client)
    patient.answer_all(COMPLETE)
    english = text_of(check_page(client.get("/check-answers").data))
    switch = check_page(client.get("/check-answers").data).find("a", hreflang="es")
    assert switch is not None
    assert switch.get_text(strip=True) == "Español"

    response = client.get(switch["href"])
    assert response.location == "/check-answers"
    spanish = check_page(client.get("/check-answers").data, "es")
    assert spanish.h1 is not None
    assert spanish.h1.get_text(strip=True) != "Check your answers"
    assert len(spanish.select(".summary__row")) == len(BY_ID)  # every answer is still there
    assert text_of(spanish) != english
    assert check_page(client.get("/").data, "es")  # the choice beats the browser's English from now on


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "/\\evil.example", "https://evil.example/", "", "/\t/evil.example", "/ /evil.example",
     "/%2F/evil.example", "/no-such-page", "/contact/../../evil"],
)  # fmt: skip
def test_the_switch_goes_back_only_to_a_page_of_this_site(client: FlaskClient, target: str) -> None:
    assert client.get("/language/es", query_string={"next": target}).location == "/"


def test_a_newline_in_the_return_path_is_refused_not_a_crash(client: FlaskClient) -> None:
    response = client.get("/language/es?next=/%0d%0aSet-Cookie:x")
    assert response.status_code == 302 and response.location == "/"
    assert "Set-Cookie:x" not in str(response.headers)


def test_the_switch_returns_to_the_page_it_was_pressed_on(client: FlaskClient) -> None:
    assert client.get("/language/es", query_string={"next": "/questions/neck"}).location == "/questions/neck"


def test_an_unknown_language_is_not_found(client: FlaskClient) -> None:
    assert client.get("/language/fr?next=/").status_code == 404


def test_the_front_desk_stays_in_english(client: FlaskClient) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    page = check_page(client.get("/staff/login").data)
    assert "Username" in text_of(page)

"""Journal: the audit log for supervisors, filtered, in pages, with the hash chain's verdict."""

from __future__ import annotations

import json

import pytest
from lxml import html as lxml_html
from sqlalchemy import text

from console_support import assert_same_origin_only
from triage_support import claim, move, report
from vigie.cli import main


def rows(response) -> list[list[str]]:
    tree = lxml_html.fromstring(response.get_data(as_text=True))
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("th|td")]
        for row in tree.xpath("//table[@class='journal']/tbody/tr")
    ]


def verdict(response) -> str:
    tree = lxml_html.fromstring(response.get_data(as_text=True))
    return " ".join(tree.get_element_by_id("verdict").text_content().split())


def cli_verify(app) -> dict:
    return json.loads(app.test_cli_runner().invoke(main, ["audit", "verify", "--json"]).output)


@pytest.fixture
def worked(client, partner, make_staff, post_report):
    """Olga claims and reviews one report, Paul claims another."""
    olga, paul = make_staff("operator", "Olga"), make_staff("operator", "Paul")
    first, second = report(post_report, partner, "a"), report(post_report, partner, "b")
    claim(client, olga, first)
    move(client, olga, first, "in_review")
    claim(client, paul, second)
    return {"olga": olga, "paul": paul, "first": first, "second": second}


def test_a_supervisor_reads_the_log_with_names_and_french_actions(console_as, worked):
    page = console_as("supervisor", "Sam").get("/console/journal")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<a href="/console/journal" aria-current="page">Journal</a>' in html
    shown = rows(page)
    seqs = [int(row[0]) for row in shown]
    assert seqs == sorted(seqs)  # oldest first, as the API lists them
    mine = [row for row in shown if worked["first"] in row[4]]
    assert [row[3] for row in mine] == [
        "Prise en charge report.claimed",
        "Changement de statut report.transition",
    ]
    assert all(row[2] == "Olga (Opérateur·rice)" for row in mine)
    assert "from : received" in mine[1][6]
    assert "Tâche automatique tests" in [row[2] for row in shown]  # the fixtures' accounts
    assert_same_origin_only(html, "journal")
    assert " style=" not in html


def test_filter_by_report_shows_that_reports_entries_only(console_as, worked):
    sam = console_as("supervisor", "Sam")
    page = sam.get(f"/console/journal?report_id={worked['second']}")
    assert [(row[3], row[4]) for row in rows(page)] == [
        ("Prise en charge report.claimed", worked["second"])
    ]
    tree = lxml_html.fromstring(page.get_data(as_text=True))
    assert tree.get_element_by_id("f-report").get("value") == worked["second"]  # kept in the form
    (link,) = tree.xpath(f"//table//a[.='{worked['second']}']")
    assert link.get("href") == f"/console/reports/{worked['second']}"


def test_filter_by_staff_member(console_as, worked):
    sam = console_as("supervisor", "Sam")
    page = sam.get(f"/console/journal?actor={worked['paul']['id']}")
    assert {row[2] for row in rows(page)} == {"Paul (Opérateur·rice)"}
    assert [row[3] for row in rows(page)] == ["Prise en charge report.claimed"]
    tree = lxml_html.fromstring(page.get_data(as_text=True))
    (chosen,) = tree.xpath("//select[@id='f-actor']/option[@selected]")
    assert chosen.text_content() == "Paul (Opérateur·rice)"
    both = sam.get(f"/console/journal?actor={worked['paul']['id']}&report_id={worked['first']}")
    assert rows(both) == []
    assert "Aucune entrée ne correspond à ces filtres." in both.get_data(as_text=True)


def test_pages_of_fifty_follow_the_apis_cursor(client, console_as, worked, make_staff):
    op = make_staff("operator", "Lecteur")
    for _ in range(55):  # each detail read is an audit entry
        assert client.get(f"/v1/triage/reports/{worked['first']}", headers=op.headers).status_code
    sam = console_as("supervisor", "Sam")
    first = sam.get(f"/console/journal?report_id={worked['first']}")
    assert len(rows(first)) == 50
    tree = lxml_html.fromstring(first.get_data(as_text=True))
    next_url = tree.get_element_by_id("journal-next").get("href")
    assert f"report_id={worked['first']}" in next_url  # the filter stays
    second = sam.get(next_url)
    assert len(rows(second)) == 7  # claim, move, 55 reads
    assert "journal-next" not in second.get_data(as_text=True)
    seqs = [int(r[0]) for r in rows(first) + rows(second)]
    assert seqs == sorted(set(seqs))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("report_id=" + "x" * 40, "Un filtre n'est pas valide ; il a été ignoré."),
        ("cursor=nonsense", "Le lien de page n'est plus valide"),
    ],
)
def test_a_bad_filter_or_cursor_is_said_and_ignored(console_as, worked, query, message):
    page = console_as("supervisor").get(f"/console/journal?{query}")
    assert page.status_code == 200
    tree = lxml_html.fromstring(page.get_data(as_text=True))
    assert message in tree.xpath("//*[@role='alert']")[0].text_content()
    assert len(rows(page)) > 3  # the whole log instead


def test_the_verdict_is_the_clis_asked_for_from_the_page(app, console_as, worked):
    sam = console_as("supervisor", "Sam")
    plain = sam.get(f"/console/journal?report_id={worked['first']}")
    assert 'id="verdict"' not in plain.get_data(as_text=True)  # the chain is read on demand
    tree = lxml_html.fromstring(plain.get_data(as_text=True))
    (ask,) = tree.xpath("//a[.='Vérifier la chaîne']")
    assert ask.get("href") == f"/console/journal?report_id={worked['first']}&verify=1#integrite"
    page = sam.get(ask.get("href"))
    assert len(rows(page)) == 2  # the filter stays
    found = cli_verify(app)
    assert found["ok"] is True
    said = verdict(page)
    assert said.startswith("Chaîne intacte.")
    # The log had found["entries"] entries at the CLI's check; the page's read adds none.
    assert f"Les {found['entries']} entrées du journal ont été vérifiées" in said
    assert found["head"][:16] in said


def test_a_rewritten_entry_shows_a_broken_chain(app, db, console_as, worked):
    sam = console_as("supervisor", "Sam")
    with db.engine.begin() as connection:  # as someone with database access would
        connection.execute(
            text("UPDATE audit_entries SET actor = 'opr_someone_else' WHERE seq = 3")
        )
    page = sam.get("/console/journal?verify=1")
    assert page.status_code == 200
    found = cli_verify(app)
    assert (found["ok"], found["broken_at"]) == (False, 3)
    said = verdict(page)
    assert said.startswith("Chaîne rompue à l'entrée n° 3 : son contenu a été modifié.")
    assert "2 entrées vérifiées avant elle." in said
    tree = lxml_html.fromstring(page.get_data(as_text=True))
    assert tree.get_element_by_id("verdict").get("role") == "alert"


def test_a_deleted_entry_shows_a_broken_chain(db, console_as, worked):
    sam = console_as("supervisor", "Sam")
    with db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    said = verdict(sam.get("/console/journal?verify=1"))
    assert said.startswith("Chaîne rompue à l'entrée n° 3 : une entrée manque")


@pytest.mark.parametrize("role", ["operator", "editor", "admin"])
def test_other_roles_are_refused(console_as, worked, role):
    console = console_as(role)
    response = console.get(f"/console/journal?report_id={worked['first']}")
    assert response.status_code == 403
    assert worked["first"] not in response.get_data(as_text=True)
    assert "Journal" not in console.get("/console/accueil").get_data(as_text=True)

"""Contenus: the editors' list and item pages, each translation saved, previewed, published
and retired through the content admin API's service functions, with their outbox events."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from console_support import assert_same_origin_only
from content_payloads import item_body
from triage_support import P1, report
from vigie.content.models import ContentItem
from vigie.outbox.models import OutboxEvent


def _html(response):
    return response.get_data(as_text=True)


def _alert(html):
    found = re.search(r'role="alert"><p>(.*?)</p>', html, re.S)
    return found.group(1) if found else None


def _status(html):
    found = re.search(r'role="status"><p>(.*?)</p>', html, re.S)
    return found.group(1) if found else None


def _events(db):
    with db.unit() as session:
        return [e.type for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]


def _stored(db, item_id):
    with db.unit() as session:
        item = session.scalars(select(ContentItem).where(ContentItem.public_id == item_id)).one()
        return item.status, item.draft_revision, item.version, item.draft["translations"]


@pytest.fixture
def draft(client, make_staff):
    """A draft written through the editor API (fr and en), not yet published."""
    writer = make_staff("editor", "Edith API")
    created = client.post("/v1/admin/content", json=item_body(), headers=writer.headers)
    assert created.status_code == 201
    return created.get_json()["id"]


@pytest.fixture
def editor(console_as):
    return console_as("editor", "Eve")


def _save(console, item_id, locale="fr", action="save", **texts):
    form = {
        "locale": locale,
        "title": "Repérer les signes",
        "summary": "Ce qu'il faut voir.",
        "body_markdown": "Appelez le **17**.",
        "action": action,
    }
    form.update(texts)
    console.get(f"/console/contents/{item_id}")
    return console.post(f"/console/contents/{item_id}/translation", form)


def test_the_list_shows_each_item_with_its_status(editor, draft):
    response = editor.get("/console/contents")
    html = _html(response)
    assert response.status_code == 200
    assert "<h1>Contenus</h1>" in html
    assert f'href="/console/contents/{draft}"' in html
    assert "Repérer les signes à bord" in html
    assert "Brouillon" in html
    assert "français, anglais" in html
    assert_same_origin_only(html, "contents")


def test_an_editor_lands_on_contents(console_as):
    editor = console_as("editor")
    assert editor.client.get("/console/").headers["Location"] == "/console/contents"


def test_the_item_page_previews_the_saved_draft_with_the_apis_sanitiser(editor, draft):
    html = _html(editor.get(f"/console/contents/{draft}"))
    assert html.count("<h1>") == 1
    assert "Aperçu du brouillon enregistré" in html
    assert "Appelez le <strong>17</strong>." in html  # the API's rendering (render.to_html)
    assert 'name="body_markdown"' in html
    assert "Publier" in html
    assert "personnel navigant" in html  # the audiences in French
    assert html.index("Traduction : français") < html.index("Traduction : anglais")
    assert_same_origin_only(html, "item")


def test_saving_a_translation_is_the_apis_patch(db, editor, draft):
    _, revision, _, before = _stored(db, draft)
    response = _save(editor, draft, title="Nouveau titre", body_markdown="Texte *revu*.")
    assert response.status_code == 302
    html = _html(editor.follow(response))
    assert "Traduction « français » enregistrée" in _status(html)
    status, new_revision, version, translations = _stored(db, draft)
    assert (status, version, new_revision) == ("draft", 0, revision + 1)
    assert translations["fr"]["title"] == "Nouveau titre"
    assert translations["fr"]["body_markdown"] == "Texte *revu*."
    # what the console does not edit stays as the API wrote it
    assert translations["fr"]["call_to_action"] == before["fr"]["call_to_action"]
    assert translations["en"] == before["en"]
    assert "Texte <em>revu</em>." in html
    assert _events(db) == []  # a draft tells partners nothing


def test_previewing_renders_through_the_sanitiser_and_saves_nothing(db, editor, draft):
    before = _stored(db, draft)
    body = "Bonjour <script>alert(1)</script><img src=x onerror=alert(1)> [lien](/aide) **gras**"
    response = _save(editor, draft, action="preview", body_markdown=body)
    html = _html(response)
    assert response.status_code == 200
    assert "Aperçu de votre saisie (non enregistrée)" in html
    assert "<strong>gras</strong>" in html
    assert '<a href="/aide" rel="noopener noreferrer">lien</a>' in html
    preview = html.split("Aperçu de votre saisie", 1)[1].split("</section>", 1)[0]
    for dropped in ("<script", "<img", "onerror"):
        assert dropped not in preview
    assert "&lt;script&gt;" in html  # the text typed stays in the textarea, escaped
    assert _stored(db, draft) == before


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ({"title": ""}, "Le titre doit contenir"),
        ({"title": "   "}, "Le titre doit contenir"),
        ({"title": "x" * 201}, "Le titre doit contenir"),
        ({"summary": ""}, "Le résumé doit contenir"),
        ({"body_markdown": ""}, "Le texte (Markdown) doit contenir"),
        ({"locale": "pas une langue"}, "La langue doit être un code connu"),
    ],
)
@pytest.mark.parametrize("action", ["save", "preview"])
def test_bad_input_is_said_in_french_on_the_page_and_writes_nothing(
    db, editor, draft, texts, message, action
):
    before = _stored(db, draft)
    response = _save(editor, draft, action=action, **texts)
    html = _html(response)
    assert response.status_code == 422
    assert message in _alert(html)
    assert "Rien n'a été enregistré." in _alert(html)
    assert _stored(db, draft) == before


def test_adding_a_translation(db, editor, draft):
    response = _save(editor, draft, locale="es", title="Detectar las señales")
    assert response.status_code == 302
    assert _stored(db, draft)[3]["es"]["title"] == "Detectar las señales"
    html = _html(editor.follow(response))
    assert "Traduction : espagnol" in html


def test_publishing_emits_the_event_and_partners_read_it(db, client, partner, editor, draft):
    editor.follow(_save(editor, draft, title="Titre publié par la console"))
    response = editor.post(f"/console/contents/{draft}/publish")
    html = _html(editor.follow(response))
    assert "Contenu publié (version 1)" in _status(html)
    assert _events(db) == ["content.published"]
    seen = client.get(f"/v1/content/{draft}?locale=fr", headers=partner.headers)
    assert seen.status_code == 200
    assert seen.get_json()["title"] == "Titre publié par la console"
    assert seen.get_json()["version"] == 1
    again = editor.post(f"/console/contents/{draft}/publish")
    assert "Rien à publier" in _status(_html(editor.follow(again)))
    assert _events(db) == ["content.published"]


def test_retiring_emits_the_event_and_partners_lose_the_item(db, client, partner, editor, draft):
    editor.get(f"/console/contents/{draft}")
    editor.follow(editor.post(f"/console/contents/{draft}/publish"))
    assert client.get(f"/v1/content/{draft}", headers=partner.headers).status_code == 200
    response = editor.post(f"/console/contents/{draft}/retire")
    html = _html(editor.follow(response))
    assert "Contenu retiré" in _status(html)
    assert _events(db) == ["content.published", "content.retired"]
    assert client.get(f"/v1/content/{draft}", headers=partner.headers).status_code == 410
    assert ">Retirer</button>" not in html


def test_publishing_without_french_is_refused_in_french(db, client, make_staff, editor):
    writer = make_staff("editor", "Edith API")
    body = item_body(translations={"en": item_body()["translations"]["en"]})
    item_id = client.post("/v1/admin/content", json=body, headers=writer.headers).get_json()["id"]
    editor.get(f"/console/contents/{item_id}")
    response = editor.post(f"/console/contents/{item_id}/publish")
    html = _html(editor.follow(response))
    assert "Une traduction en français (fr) est nécessaire pour publier." in _alert(html)
    assert _stored(db, item_id)[0] == "draft"
    assert _events(db) == []


def test_retiring_a_draft_is_refused_in_french(db, editor, draft):
    editor.get(f"/console/contents/{draft}")
    response = editor.post(f"/console/contents/{draft}/retire")
    assert "Seul un contenu publié peut être retiré" in _alert(_html(editor.follow(response)))
    assert _stored(db, draft)[0] == "draft"


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_each_content_form_without_its_csrf_token_is_refused(db, client, editor, draft, token):
    before = _stored(db, draft)
    data = {"locale": "fr", "title": "x", "summary": "y", "body_markdown": "z"}
    if token is not None:
        data["csrf_token"] = token
    for action in ("translation", "publish", "retire"):
        response = editor.client.post(f"/console/contents/{draft}/{action}", data=data)
        assert response.status_code == 400, action
        assert "jeton de sécurité" in _html(response)
    assert _stored(db, draft) == before
    assert _events(db) == []


@pytest.mark.parametrize("role", ["operator", "supervisor", "admin"])
def test_other_roles_may_not_open_or_change_content(db, console_as, draft, role):
    console = console_as(role)
    before = _stored(db, draft)
    for url in ("/console/contents", f"/console/contents/{draft}"):
        response = console.get(url)
        assert response.status_code == 403
        assert "Repérer" not in _html(response)
    for action in ("translation", "publish", "retire"):
        response = console.post(f"/console/contents/{draft}/{action}", {"title": "x"})
        assert response.status_code == 403
    assert _stored(db, draft) == before


def test_an_editor_never_sees_a_report(partner, post_report, editor, draft):
    report_id = report(post_report, partner, "EDITOR-NEVER", description="Secret triage", **P1)
    for url in ("/console/contents", f"/console/contents/{draft}", "/console/accueil"):
        html = _html(editor.get(url))
        for hidden in (report_id, "Secret triage", "File d&#39;attente", "Hébergements"):
            assert hidden not in html, (url, hidden)
    assert editor.get(f"/console/reports/{report_id}").status_code == 403
    assert editor.get("/console/shelters").status_code == 403

"""The embeddable report form, as a host's browser and the partner's site meet it."""

from __future__ import annotations

import re

import pytest

from embed_support import count, filled, form_partner, fresh_token, receipt, submit, token
from vigie import clock
from vigie.reports.vocabulary import EXPLOITATION, INDICATORS

CSP_START = "default-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; "


def _detail(client, staff, report_id):
    response = client.get(f"/v1/triage/reports/{report_id}", headers=staff.headers)
    assert response.status_code == 200
    return response.get_json()


def _nothing_stored(db):
    assert count(db, "reports") == 0
    assert count(db, "outbox_events") == 0


# -- the page ----------------------------------------------------------------------------------


def test_the_french_form_is_built_from_the_vocabulary_with_the_partners_name(client, db):
    host = form_partner(db)
    response = client.get("/embed/gites-de-france/report?lang=fr")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Gîtes de France" in page
    for indicator in INDICATORS:
        label = indicator.fr.replace("'", "&#39;")
        assert (label in page) is (indicator.context != "flight"), indicator.code
    for form in EXPLOITATION:
        assert form.fr.replace("'", "&#39;") in page
    assert "compagnie aérienne" in page  # flights: said to come through the airline
    assert re.search(r'<input checked[^>]*name="reporter_role"[^>]*value="host"', page)
    assert "Set-Cookie" not in response.headers  # nothing the browser would block in a frame
    assert host["slug"] == "gites-de-france"


def test_every_field_has_a_label_and_every_group_a_legend(client, db):
    form_partner(db)
    page = client.get("/embed/gites-de-france/report").get_data(as_text=True)
    inputs = re.findall(r"<(?:input|textarea)\b([^>]*)>", page)
    ids = []
    for attributes in inputs:
        if 'type="hidden"' in attributes:
            continue
        ids.append(re.search(r'\bid="([^"]+)"', attributes).group(1))
    assert len(ids) > 40
    for field_id in ids:
        assert f'<label for="{field_id}"' in page, field_id
    assert page.count("<fieldset") == page.count("<legend") >= 8


def test_the_english_form(client, db):
    form_partner(db)
    response = client.get("/embed/gites-de-france/report?lang=en")
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Report a situation of concern" in page
    assert "People who cannot come and go freely" in page
    assert "Sexual exploitation" in page
    assert 'action="/embed/gites-de-france/report?lang=en"' in page
    assert 'href="?lang=fr" lang="fr"' in page  # the switch to French says it is French


def test_an_unknown_language_falls_back_to_french(client, db):
    form_partner(db)
    page = client.get("/embed/gites-de-france/report?lang=de").get_data(as_text=True)
    assert '<html lang="fr">' in page


def test_nothing_comes_from_elsewhere_and_the_page_has_no_script(client, db):
    form_partner(db, origins=("https://www.gites-de-france.com",))
    page = client.get("/embed/gites-de-france/report").get_data(as_text=True)
    assert "<script" not in page
    assert " style=" not in page  # default-src 'self' forbids inline styles too
    links = re.findall(r'\b(?:src|href|action)="([^"]*)"', page)
    assert links
    for link in links:
        assert not re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", link, re.I) or link.startswith("tel:"), (
            link
        )
    with client.get("/embed/_assets/form.css") as css:
        assert css.status_code == 200
        assert css.mimetype == "text/css"
        stylesheet = css.get_data(as_text=True)
    assert "url(" not in stylesheet
    assert "@import" not in stylesheet


# -- who may frame it ----------------------------------------------------------------------------


def test_frame_ancestors_lists_exactly_the_partners_origins(client, db):
    form_partner(db, origins=("https://www.gites-de-france.com", "https://gdf.example:8443"))
    response = client.get("/embed/gites-de-france/report")
    assert response.headers["Content-Security-Policy"] == (
        CSP_START + "frame-ancestors https://www.gites-de-france.com https://gdf.example:8443"
    )
    assert "X-Frame-Options" not in response.headers


def test_a_partner_without_origins_may_not_frame_it(client, db):
    form_partner(db)
    response = client.get("/embed/gites-de-france/report")
    assert response.headers["Content-Security-Policy"] == CSP_START + "frame-ancestors 'none'"
    assert "*" not in response.headers["Content-Security-Policy"]


def test_an_unknown_or_revoked_slug_is_404(client, db, app):
    response = client.get("/embed/nobody/report")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Formulaire introuvable" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    assert client.post("/embed/nobody/report", data={}).status_code == 404

    host = form_partner(db)
    from vigie.cli import main

    result = app.test_cli_runner().invoke(main, ["partner", "revoke", host["id"]])
    assert result.exit_code == 0, result.output
    assert client.get("/embed/gites-de-france/report").status_code == 404
    assert client.get("/embed/gites-de-france/button.js").status_code == 404


# -- submitting ------------------------------------------------------------------------------------


def test_a_submission_stores_the_report_for_the_partner_through_the_form_channel(
    client, db, make_staff
):
    host = form_partner(db)
    response = submit(client, "gites-de-france")
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    assert "Signalement envoyé" in page
    report_id = receipt(page)
    assert "appelez le 17 ou le 112 maintenant" not in page  # no danger, no minors declared

    detail = _detail(client, make_staff(), report_id)
    assert detail["channel"] == "form"
    assert detail["partner"]["id"] == host["id"]
    assert detail["context"] == "stay"
    assert detail["reporter"]["role"] == "host"
    assert detail["reporter"].get("contact") is None
    assert detail["language"] == "fr"
    assert detail["indicators"] == ["more_occupants_than_booked", "frequent_visitors"]
    assert detail["suspected_exploitation"] == ["sexual"]
    assert detail["persons"]["count"] == 5
    assert detail["location"]["department"] == "13"
    assert detail["stay"]["listing_reference"] == "Mas des Oliviers"
    assert count(db, "outbox_events") == 1  # report.received, as for the API

    mine = client.get("/v1/reports", headers=host.headers).get_json()
    assert [r["id"] for r in mine] == [report_id]
    assert mine[0]["partner_reference"].startswith("form-")


def test_sending_the_same_page_twice_stores_one_report(client, db):
    form_partner(db)
    csrf = fresh_token(client, "gites-de-france")
    first = client.post("/embed/gites-de-france/report?lang=fr", data=filled(csrf))
    again = client.post("/embed/gites-de-france/report?lang=fr", data=filled(csrf))
    assert (first.status_code, again.status_code) == (201, 200)
    assert receipt(first.get_data(as_text=True)) == receipt(again.get_data(as_text=True))
    assert "déjà été envoyé" in again.get_data(as_text=True)
    assert count(db, "reports") == 1


def test_the_time_is_paris_time_across_daylight_saving(client, db, make_staff):
    form_partner(db)
    staff = make_staff()
    winter = submit(
        client,
        "gites-de-france",
        observed_date="2025-01-10",
        check_in="2025-01-09",
        check_out="2025-01-12",
        observed_time="22:40",
    )
    summer = submit(
        client,
        "gites-de-france",
        observed_date="2025-07-14",
        check_in="2025-07-13",
        check_out="2025-07-15",
        observed_time="22:40",
    )
    observed = [
        _detail(client, staff, receipt(r.get_data(as_text=True)))["observed_at"]
        for r in (winter, summer)
    ]
    assert [o[:19] for o in observed] == ["2025-01-10T21:40:00", "2025-07-14T20:40:00"]


def test_danger_and_minors_show_the_emergency_numbers_in_the_forms_language(client, db):
    form_partner(db)
    danger = submit(client, "gites-de-france", danger="yes").get_data(as_text=True)
    assert "Des personnes sont en danger immédiat : appelez le 17 ou le 112 maintenant." in danger
    assert 'href="tel:17"' in danger
    assert 'href="tel:112"' in danger
    assert 'href="tel:119"' not in danger

    minors = submit(client, "gites-de-france", lang="en", minors="2").get_data(as_text=True)
    assert '<html lang="en">' in minors
    assert "Minors are involved: call 119 (children in danger)." in minors
    assert 'href="tel:119"' in minors


def test_elsewhere_sends_no_stay(client, db, make_staff):
    form_partner(db)
    response = submit(
        client,
        "gites-de-france",
        context="other",
        listing_reference="ignored",
        indicators=["restricted_movement"],
    )
    assert response.status_code == 201
    detail = _detail(client, make_staff(), receipt(response.get_data(as_text=True)))
    assert detail["context"] == "other"
    assert detail["stay"] is None


# -- consent -----------------------------------------------------------------------------------


def test_contact_details_are_kept_only_with_consent(client, db, make_staff):
    form_partner(db)
    response = submit(
        client,
        "gites-de-france",
        contact_consent="y",
        contact_name="Claire",
        contact_phone="06 12 34 56 78",
        contact_email="",
    )
    assert response.status_code == 201
    detail = _detail(client, make_staff(), receipt(response.get_data(as_text=True)))
    assert detail["reporter"]["contact_consent"] is True
    assert detail["reporter"]["contact"]["phone"] == "06 12 34 56 78"


def test_details_without_consent_are_an_error_beside_the_box_and_nothing_is_stored(client, db):
    form_partner(db)
    response = submit(client, "gites-de-france", contact_phone="06 12 34 56 78")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="contact_consent-error"' in page
    assert "Cochez cette case pour que nous gardions vos coordonnées" in page
    assert 'value="06 12 34 56 78"' in page
    _nothing_stored(db)


def test_consent_without_a_phone_or_an_address_is_an_error(client, db):
    form_partner(db)
    response = submit(client, "gites-de-france", contact_consent="y", contact_name="Claire")
    assert response.status_code == 422
    assert "Indiquez un téléphone ou une adresse e-mail" in response.get_data(as_text=True)
    _nothing_stored(db)


# -- errors --------------------------------------------------------------------------------------


def test_invalid_input_shows_the_form_again_with_the_values_and_each_error_beside_its_field(
    client, db
):
    form_partner(db)
    response = submit(
        client,
        "gites-de-france",
        postcode="1300",
        check_in="2025-03-10",
        check_out="2025-03-01",
        persons_count="deux",
        minors="1",
        indicators=["frequent_visitors", "restricted_movement"],
        exploitation=[],
        description="Une description à garder.",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<title>Erreur : " in page
    assert 'role="alert"' in page
    for field, message in [
        ("postcode", "Indiquez un code postal français de 5 chiffres"),
        ("check_out", "La date de départ ne peut pas précéder la date d&#39;arrivée."),
        ("persons_count", "Indiquez un nombre entier entre 1 et 500."),
        ("exploitation", "Cochez au moins une réponse"),
    ]:
        assert f'<p class="error" id="{field}-error">' in page, field
        assert message in page, field
        assert re.search(rf'aria-describedby="[^"]*\b{field}-error\b', page), field
    assert 'href="#postcode"' in page
    assert 'href="#exploitation-0"' in page
    assert 'aria-invalid="true"' in page
    assert 'value="1300"' in page
    assert 'value="deux"' in page
    assert 'value="1"' in page
    assert 'value="2025-03-01"' in page
    assert "Une description à garder." in page
    assert re.search(r'<input checked[^>]*value="frequent_visitors"', page)
    assert not re.search(r'<input checked[^>]*value="isolation"', page)
    assert 'id="observed_date-error"' not in page
    _nothing_stored(db)


def test_an_empty_form_names_every_required_field(client, db):
    form_partner(db)
    csrf = fresh_token(client, "gites-de-france", "en")
    response = client.post(
        "/embed/gites-de-france/report?lang=en", data={"csrf_token": csrf, "reporter_role": "host"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for field in [
        "context",
        "observed_date",
        "observed_time",
        "postcode",
        "indicators",
        "exploitation",
        "persons_count",
        "danger",
    ]:
        assert f'id="{field}-error"' in page, field
    assert "Enter the postcode of the place." in page
    _nothing_stored(db)


def test_a_stay_needs_its_stay_fields(client, db):
    form_partner(db)
    response = submit(client, "gites-de-france", listing_reference="", guest_count="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Indiquez la référence ou le nom du logement." in page
    assert "Indiquez le nombre de voyageurs de la réservation." in page


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("indicators", ["SPOOKY_VIBES"]),
        ("indicators", ["documents_held_by_companion"]),  # a flight's, not offered here
        ("exploitation", ["everything"]),
        ("context", "flight"),
        ("danger", "maybe"),
        ("reporter_role", "cabin_crew"),
        ("persons_count", "9" * 40),
        ("minors", "-1"),
        ("guest_count", "0"),
        ("observed_date", "2999-01-01"),
        ("observed_date", "1999-12-31"),
        ("observed_date", "31/02/2025"),
        ("observed_time", "25:00"),
        ("description", "x" * 5001),
        ("description", "avant\x00après"),
        ("commune", "\x00"),
        ("contact_email", "pas une adresse"),
        ("postcode", "00000"),  # belongs to no département
    ],
)
def test_hostile_values_are_field_errors_never_a_500(client, db, field, value):
    form_partner(db)
    overrides = {field: value}
    if field == "contact_email":
        overrides["contact_consent"] = "y"
    response = submit(client, "gites-de-france", **overrides)
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    assert 'class="error"' in page
    _nothing_stored(db)


# -- CSRF --------------------------------------------------------------------------------------


def test_a_post_without_a_token_is_400_and_stores_nothing(client, db):
    form_partner(db)
    response = client.post("/embed/gites-de-france/report", data=filled(""))
    assert response.status_code == 400
    assert "n&#39;a pas pu être vérifié" in response.get_data(as_text=True)
    _nothing_stored(db)


@pytest.mark.parametrize("tamper", ["flip", "other_partner", "garbage"])
def test_a_bad_token_is_400_and_stores_nothing(client, db, tamper):
    form_partner(db)
    form_partner(db, name="Plateforme B")
    if tamper == "flip":
        good = fresh_token(client, "gites-de-france")
        csrf = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    elif tamper == "other_partner":
        csrf = fresh_token(client, "plateforme-b")
    else:
        csrf = "not-a-token"
    response = client.post("/embed/gites-de-france/report", data=filled(csrf))
    assert response.status_code == 400
    _nothing_stored(db)


def test_a_post_the_browser_says_came_from_another_site_is_400(client, db):
    form_partner(db)
    response = submit(client, "gites-de-france", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 400
    _nothing_stored(db)
    same = submit(client, "gites-de-france", headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 201


def test_an_expired_token_keeps_the_values_and_asks_to_send_again(client, db):
    form_partner(db)
    csrf = fresh_token(client, "gites-de-france")
    clock.travel(5 * 3600)
    response = client.post(
        "/embed/gites-de-france/report", data=filled(csrf, description="Texte gardé.")
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "ouvert il y a trop longtemps" in page
    assert "Texte gardé." in page
    _nothing_stored(db)
    renewed = token(page)
    assert renewed != csrf
    assert client.post("/embed/gites-de-france/report", data=filled(renewed)).status_code == 201


@pytest.mark.parametrize("body", ["[1, 2]", '{"csrf_token": {"a": 1}}', "{not json"])
def test_the_form_takes_form_posts_only(client, db, body):
    form_partner(db)
    response = client.post(
        "/embed/gites-de-france/report", data=body, content_type="application/json"
    )
    assert response.status_code == 400
    _nothing_stored(db)


def test_the_json_api_still_refuses_form_posts(client, partner):
    response = client.post("/v1/reports", data={"a": "b"}, headers=partner.headers)
    assert response.status_code == 415


# -- limits ---------------------------------------------------------------------------------------


def test_submissions_are_limited_per_client_address(make_app, db):
    app = make_app(form_submissions_per_minute=3)
    client = app.test_client()
    form_partner(db)
    for _ in range(3):
        assert submit(client, "gites-de-france", lang="en", postcode="x").status_code == 422
    over = submit(client, "gites-de-france", lang="en")
    assert over.status_code == 429
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    page = over.get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Too many reports sent from your connection" in page
    assert "call 17 or 112" in page
    assert over.headers["Content-Security-Policy"].endswith("frame-ancestors 'none'")
    _nothing_stored(db)
    # the form itself can still be read, and another address may still send
    assert client.get("/embed/gites-de-france/report").status_code == 200
    other = app.test_client()
    csrf = fresh_token(other, "gites-de-france")
    sent = other.post(
        "/embed/gites-de-france/report",
        data=filled(csrf),
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert sent.status_code == 201


def test_behind_a_proxy_the_forwarded_address_is_counted(make_app, db):
    app = make_app(form_submissions_per_minute=1, ratelimit_proxy_hops=1)
    client = app.test_client()
    form_partner(db)

    def send(address):
        csrf = fresh_token(client, "gites-de-france")
        return client.post(
            "/embed/gites-de-france/report",
            data=filled(csrf, postcode="x"),
            headers={"X-Forwarded-For": address},
        )

    assert send("198.51.100.1").status_code == 422
    assert send("198.51.100.2").status_code == 422
    assert send("198.51.100.1").status_code == 429


def test_only_the_forms_pages_go_through_the_limiter(app):
    limiter = app.extensions["vigie.embed.limiter"]

    def hooks(table):
        return [
            f
            for funcs in table.values()
            for f in funcs
            if getattr(f, "__self__", None) is limiter or limiter in getattr(f, "args", ())
        ]

    assert hooks({k: v for k, v in app.before_request_funcs.items() if k != "embed"}) == []
    assert hooks(app.after_request_funcs) == []
    assert hooks(app.teardown_request_funcs) == []
    assert len(hooks({"embed": app.before_request_funcs["embed"]})) == 1


def test_the_default_limit_is_ten_per_minute(client, db):
    form_partner(db)
    statuses = [submit(client, "gites-de-france", postcode="x").status_code for _ in range(11)]
    assert statuses == [422] * 10 + [429]


# -- the button --------------------------------------------------------------------------------


def test_the_button_script(client, db):
    form_partner(db)
    response = client.get("/embed/gites-de-france/button.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    script = response.get_data(as_text=True)
    assert '"/embed/gites-de-france/report"' in script
    assert "Signaler une situation de traite" in script
    assert "Report a trafficking situation" in script
    assert "showModal" in script
    missing = client.get("/embed/nobody/button.js")
    assert missing.status_code == 404

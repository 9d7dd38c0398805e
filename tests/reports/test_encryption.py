"""Sensitive fields are encrypted at rest; blind indexes link reports; data keys rotate."""

from __future__ import annotations

import json

from cryptography.fernet import Fernet
from sqlalchemy import select, text

from payloads import flight_report, stay_report
from vigie import migrate
from vigie.audit.service import Who
from vigie.cli import main
from vigie.crypto import Crypto, DecryptionError
from vigie.datakeys import encrypted_tables
from vigie.db import make_engine
from vigie.models import Base
from vigie.reports.models import Report

SECRETS = {
    "description": "Quatre femmes enfermees au 3e etage, code porte 4471B",
    "name": "Genevieve Trouillard",
    "phone": "+33 6 12 34 98 76",
    "email": "genevieve.trouillard@example.org",
    "listing": "LISTING-ZX-99410277",
    "booking": "BOOKING-QQ-55120",
    "flight": "AF1047",
}


def _sensitive_reports():
    stay = stay_report(
        partner_reference="ENC-1",
        description=SECRETS["description"],
        reporter={
            "role": "host",
            "contact_consent": True,
            "contact": {
                "name": SECRETS["name"],
                "phone": SECRETS["phone"],
                "email": SECRETS["email"],
            },
        },
    )
    stay["stay"] = {
        **stay["stay"],
        "listing_reference": SECRETS["listing"],
        "booking_reference": SECRETS["booking"],
    }
    flight = flight_report(partner_reference="ENC-2", description=SECRETS["description"])
    flight["flight"]["flight_number"] = SECRETS["flight"]
    return [stay, flight]


def _post_all(client, actor):
    for body in _sensitive_reports():
        response = client.post("/v1/reports", json=body, headers=actor.headers)
        assert response.status_code == 201, response.get_json()


def _plaintexts():
    return [v.encode() for v in SECRETS.values()]


def test_plaintext_is_absent_from_the_sqlite_file_and_wal(make_app, tmp_path):
    path = tmp_path / "enc.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = make_app(database_url=url)
    from vigie.partners import service

    with app.extensions["vigie"].db.unit() as session:
        _, key = service.create(
            session=session, who=Who.system("tests"), name="Gîtes", scopes=["reports:write"]
        )
    client = app.test_client()
    for body in _sensitive_reports():
        response = client.post("/v1/reports", json=body, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 201

    raw = b"".join(p.read_bytes() for p in (path, tmp_path / "enc.db-wal") if p.exists())
    assert len(raw) > 4096
    for plaintext in _plaintexts():
        assert plaintext not in raw, plaintext
        assert plaintext.lower() not in raw.lower(), plaintext
    # The clear columns are in the file (the test reads the right bytes).
    assert b"Marseille" in raw


def test_plaintext_is_absent_from_every_stored_row(app, client, partner, db):
    _post_all(client, partner)
    dumped = []
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                dumped.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    everything = "\n".join(dumped)
    assert "Marseille" in everything
    for plaintext in SECRETS.values():
        assert plaintext not in everything, plaintext
    with db.unit(write=False) as session:
        stored = session.scalars(select(Report).order_by(Report.id)).all()
    crypto = app.extensions["vigie"].crypto
    assert crypto.decrypt(stored[0].description_enc) == SECRETS["description"]
    assert crypto.decrypt(stored[0].listing_reference_enc) == SECRETS["listing"]
    assert crypto.decrypt(stored[1].flight_number_enc) == SECRETS["flight"]
    assert SECRETS["email"] in crypto.decrypt(stored[0].contact_enc)


def test_contact_without_consent_is_refused_and_never_stored(client, partner, db):
    body = stay_report(
        reporter={"role": "host", "contact": {"name": SECRETS["name"]}},
    )
    assert client.post("/v1/reports", json=body, headers=partner.headers).status_code == 422
    with db.unit(write=False) as session:
        assert session.scalar(select(Report.id)) is None


def test_the_blind_index_links_reports_about_one_listing_without_the_data_key(
    app, client, make_partner, db
):
    first, second = make_partner("A"), make_partner("B")

    def post(actor, ref, listing):
        body = stay_report(partner_reference=ref)
        body["stay"] = {**body["stay"], "listing_reference": listing}
        assert client.post("/v1/reports", json=body, headers=actor.headers).status_code == 201

    post(first, "A-1", "LISTING-ZX-99410277")
    post(second, "B-1", "  listing-zx-99410277 ")  # same place, typed differently
    post(second, "B-2", "LISTING-OTHER-1")

    # Someone holding only the secret key (no data key) finds both reports.
    secret = app.extensions["vigie.config"].secret_key
    index_only = Crypto([Fernet.generate_key().decode()], secret)
    wanted = index_only.blind_index("listing", "LISTING-ZX-99410277")
    with db.unit(write=False) as session:
        linked = session.scalars(
            select(Report.partner_reference).where(Report.listing_index == wanted)
        ).all()
    assert sorted(linked) == ["A-1", "B-1"]
    other = Crypto([Fernet.generate_key().decode()], "another secret" * 4)
    assert other.blind_index("listing", "LISTING-ZX-99410277") != wanted


def _encrypted_values(db):
    values = []
    with db.engine.connect() as conn:
        for _table, columns in encrypted_tables():
            for row in conn.execute(select(*columns)):
                values += [v for v in row if v is not None]
    return values


def test_keys_rotate_re_encrypts_everything_under_the_new_key(app, make_app, db):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = make_app(data_key=old)
    from vigie.partners import service

    with before.extensions["vigie"].db.unit() as session:
        _, key = service.create(
            session=session, who=Who.system("tests"), name="P", scopes=["reports:write"]
        )
    client = before.test_client()
    for body in _sensitive_reports():
        client.post("/v1/reports", json=body, headers={"Authorization": f"Bearer {key}"})
    tokens = _encrypted_values(db)
    assert len(tokens) == 6  # 2 descriptions, listing, booking, contact, flight number

    during = make_app(data_key=f"{new},{old}")
    result = during.test_cli_runner().invoke(main, ["keys", "rotate", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rotated"]["reports"] == len(tokens)

    only_new = Crypto([new], before.extensions["vigie.config"].secret_key)
    only_old = Crypto([old], before.extensions["vigie.config"].secret_key)
    rotated = _encrypted_values(db)
    plaintexts = [only_new.decrypt(t) for t in rotated]
    assert SECRETS["description"] in plaintexts
    assert SECRETS["listing"] in plaintexts
    assert SECRETS["flight"] in plaintexts
    assert any(SECRETS["phone"] in p for p in plaintexts)
    for token in rotated:
        try:
            only_old.decrypt(token)
        except DecryptionError:  # expected: the old key no longer reads anything
            continue
        raise AssertionError("a value is still readable with the old key")

    # The API keeps working with only the new key, and the blind index still matches.
    after = make_app(data_key=new)
    with after.extensions["vigie"].db.unit() as session:
        stored = session.scalar(select(Report).where(Report.partner_reference == "ENC-1"))
        assert (
            after.extensions["vigie"].crypto.decrypt(stored.description_enc)
            == (SECRETS["description"])
        )
        assert stored.listing_index == after.extensions["vigie"].crypto.blind_index(
            "listing", SECRETS["listing"]
        )


def test_keys_rotate_refuses_values_no_key_can_read(app, make_app, db, client, partner):
    _post_all(client, partner)
    stranger = make_app(data_key=Fernet.generate_key().decode())
    result = stranger.test_cli_runner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 1
    assert "cannot be decrypted with any configured key" in result.output
    assert SECRETS["description"] not in result.output


def test_sqlite_checkpointed_file_has_no_plaintext_either(make_app, tmp_path):
    path = tmp_path / "ck.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    app = make_app(database_url=url)
    from vigie.partners import service

    with app.extensions["vigie"].db.unit() as session:
        _, key = service.create(
            session=session, who=Who.system("tests"), name="P", scopes=["reports:write"]
        )
    client = app.test_client()
    for body in _sensitive_reports():
        client.post("/v1/reports", json=body, headers={"Authorization": f"Bearer {key}"})
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    raw = path.read_bytes()
    assert b"Marseille" in raw
    for plaintext in _plaintexts():
        assert plaintext not in raw

"""A partner's slug names its embeddable form: derived from the name, unique, or chosen."""

from __future__ import annotations

import pytest

from conftest import SEEDER
from vigie.errors import Conflict, Invalid
from vigie.partners import service


def _create(db, name, **kw):
    with db.unit() as session:
        partner, _ = service.create(
            session=session, who=SEEDER, name=name, scopes=["reports:write"], **kw
        )
        return partner.slug


def test_the_default_slug_is_the_name_without_accents_in_lower_case(db):
    assert _create(db, "Gîtes de France") == "gites-de-france"
    assert _create(db, "  Hôtel  L'Étoile & Co ") == "hotel-l-etoile-co"


def test_a_taken_slug_gets_a_number(db):
    assert _create(db, "Gîtes de France") == "gites-de-france"
    assert _create(db, "Gites de France") == "gites-de-france-2"


def test_a_chosen_slug_must_be_well_formed_and_free(db):
    assert _create(db, "Plateforme A", slug="plateforme-a") == "plateforme-a"
    with pytest.raises(Conflict):
        _create(db, "Plateforme B", slug="plateforme-a")
    with pytest.raises(Invalid):
        _create(db, "Plateforme C", slug="Pas Bon")

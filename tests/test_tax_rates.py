"""Tax rates (admin): one per country and region, regions case-insensitive, 4 places."""

import pytest

from app.platform.db import db
from app.platform.models import TaxRate
from app.settings.taxes import rate_for
from tests.helpers import assert_problem, count_rows


def create(client, auth, **fields):
    body = {"country": "US", "rate": "0.05"} | fields
    return client.post("/api/admin/tax-rates", json=body, headers=auth.admin)


def test_a_rate_is_created_read_changed_and_deleted(client, auth):
    created = create(client, auth, region="TX", rate="0.0825")
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert (body["country"], body["region"], body["rate"]) == ("US", "TX", "0.0825")
    path = f"/api/admin/tax-rates/{body['id']}"
    assert created.headers["Location"].endswith(path)
    assert client.get(path, headers=auth.admin).get_json() == body
    changed = client.patch(path, json={"rate": "0.0625"}, headers=auth.admin)
    assert changed.get_json()["rate"] == "0.0625"
    listed = client.get("/api/admin/tax-rates", headers=auth.admin).get_json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert client.delete(path, headers=auth.admin).status_code == 204
    assert_problem(client.get(path, headers=auth.admin), 404)


def test_one_rate_per_country_and_region_whatever_the_case(client, auth, query):
    assert create(client, auth).status_code == 201
    assert create(client, auth, region="TX").status_code == 201
    assert_problem(create(client, auth), 422, "region")
    assert_problem(create(client, auth, region="tx"), 422, "region")
    other = create(client, auth, region="CA").get_json()
    response = client.patch(
        f"/api/admin/tax-rates/{other['id']}", json={"region": "Tx"}, headers=auth.admin
    )
    assert_problem(response, 422, "region")
    assert count_rows(query, TaxRate) == 3


def test_the_region_wins_over_the_country_and_unknown_places_pay_none(app, client, auth):
    create(client, auth, rate="0.05")
    create(client, auth, region="TX", rate="0.0825")
    with app.app_context():
        assert str(rate_for("US", "tx")) == "0.0825"
        assert str(rate_for("US", "NY")) == "0.0500"
        assert str(rate_for("US", None)) == "0.0500"
        assert str(rate_for("DE", None)) == "0.0000"
        db.session.rollback()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"rate": "1"}, "rate"),
        ({"rate": "0.12345"}, "rate"),
        ({"rate": "-0.1"}, "rate"),
        ({"rate": 0.05}, "rate"),
        ({"rate": "NaN"}, "rate"),
        ({"country": "XX"}, "country"),
        ({"region": ""}, "region"),
    ],
)
def test_bad_fields_are_422s_and_store_nothing(client, auth, query, fields, field):
    assert_problem(create(client, auth, **fields), 422, field)
    assert count_rows(query, TaxRate) == 0


def test_only_admins_manage_rates(client, auth):
    body = {"country": "US", "rate": "0.05"}
    assert_problem(client.post("/api/admin/tax-rates", json=body, headers=auth.customer), 403)
    assert_problem(client.get("/api/admin/tax-rates"), 401)

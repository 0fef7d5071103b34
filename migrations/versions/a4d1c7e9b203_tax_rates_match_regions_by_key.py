"""tax rates match regions by a key computed in Python

A rate's region was matched with lower() in SQL: "TX " or a fullwidth "ＴＸ" paid no tax, and
SQLite's lower() (ASCII only) and PostgreSQL's disagreed on "Ávila". Each rate now stores
`region_key` (app.accounts.regions.region_key: the ISO 3166-2 code the region names, else
the folded text; "" for the whole country), its region is stored cleaned, and one rate per
country and key is unique. Rates whose keys collide (say "TX" and "Texas") stop the upgrade
with their ids: delete one first.

Revision ID: a4d1c7e9b203
Revises: cfb4e0223dfa
Create Date: 2026-12-07 19:00:00

"""

import sqlalchemy as sa
from alembic import op

from app.accounts.regions import clean_region, region_key

# revision identifiers, used by Alembic.
revision = "a4d1c7e9b203"
down_revision = "cfb4e0223dfa"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "tax_rates",
        sa.Column("region_key", sa.String(length=100), nullable=False, server_default=""),
    )
    connection = op.get_bind()
    rates = sa.table(
        "tax_rates",
        sa.column("id", sa.Integer),
        sa.column("country", sa.String),
        sa.column("region", sa.String),
        sa.column("region_key", sa.String),
    )
    seen: dict[tuple[str, str], int] = {}
    for rate_id, country, region in connection.execute(
        sa.select(rates.c.id, rates.c.country, rates.c.region).order_by(rates.c.id)
    ):
        key = region_key(country, region)
        if (country, key) in seen:
            raise RuntimeError(
                f"Tax rates {seen[(country, key)]} and {rate_id} name the same region of "
                f"{country} ({key or 'the whole country'}): delete one, then upgrade again."
            )
        seen[(country, key)] = rate_id
        connection.execute(
            rates.update()
            .where(rates.c.id == rate_id)
            .values(region=clean_region(region), region_key=key)
        )
    op.drop_index("uq_tax_rates_country_region", table_name="tax_rates")
    op.create_index(
        "uq_tax_rates_country_region_key", "tax_rates", ["country", "region_key"], unique=True
    )


def downgrade():
    op.drop_index("uq_tax_rates_country_region_key", table_name="tax_rates")
    op.drop_column("tax_rates", "region_key")
    op.create_index(
        "uq_tax_rates_country_region",
        "tax_rates",
        ["country", sa.text("lower(coalesce(region, ''))")],
        unique=True,
    )

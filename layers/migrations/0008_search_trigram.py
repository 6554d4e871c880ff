"""Forgiving search (layers.selectors.search_registry): pg_trgm and unaccent, an IMMUTABLE wrapper of
unaccent (the extension's own function is only STABLE, so no index could use it), and the indexes on
the normalised names the search compares (`lower(gis_unaccent(...))`), trigram (GIN) for the names and
B-tree for the numbers it looks up exactly. The GIN indexes keep no pending list (fastupdate off):
registry tables are read far more often than written, and a list filled by a bulk load would be read
through on every search until the next vacuum. Both extensions are trusted in PostgreSQL 13+, so the
database's owner (no superuser) creates them."""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION public.gis_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
"""

INDEXES = [
    # (name, table, method, expression, rows): current rows only, as the search reads them
    (
        "layers_precinct_name_trgm",
        "layers_precinct",
        "gin",
        "lower(public.gis_unaccent(name)) gin_trgm_ops",
        "",
    ),
    (
        "layers_address_street_trgm",
        "layers_addresspoint",
        "gin",
        "lower(public.gis_unaccent(street)) gin_trgm_ops",
        "street <> ''",
    ),
    (  # a locality is searched by name only where it has no streets (villages)
        "layers_address_locality_trgm",
        "layers_addresspoint",
        "gin",
        "lower(public.gis_unaccent(locality)) gin_trgm_ops",
        "street = ''",
    ),
    ("layers_address_number_lower", "layers_addresspoint", "btree", "lower(number)", ""),
    ("layers_parcel_number_idx", "layers_parcel", "btree", "number", ""),
    # parcel ids by their start (LIKE '141804\_4.0001.1%'), whatever the database's collation
    ("layers_parcel_id_pattern", "layers_parcel", "btree", "parcel_id text_pattern_ops", ""),
]


class Migration(migrations.Migration):
    dependencies = [
        ("layers", "0007_import_job_scope"),
    ]

    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.RunSQL(FUNCTION, reverse_sql="DROP FUNCTION IF EXISTS public.gis_unaccent(text);"),
        *[
            migrations.RunSQL(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING {method} ({expression})"
                + (" WITH (fastupdate = off)" if method == "gin" else "")
                + f" WHERE end_object IS NULL{' AND ' + rows if rows else ''};",
                reverse_sql=f"DROP INDEX IF EXISTS {name};",
            )
            for name, table, method, expression, rows in INDEXES
        ],
    ]

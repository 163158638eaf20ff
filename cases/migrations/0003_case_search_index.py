"""GIN index for case full-text search, on PostgreSQL only.

The expression must stay identical to ``cases.search.case_search_vector()``
(copied here so later edits to app code cannot change a past migration); a
PostgreSQL test checks the search query's plan uses this index. SQLite has no
GIN index and searches with a fallback, so nothing is done there. RunPython
keeps the index out of the migration state, so the model needs no
PostgreSQL-only ``Meta.indexes`` entry.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations

INDEX_NAME = "case_search"


def _index() -> GinIndex:
    vector = (
        SearchVector("title", weight="A", config="english")
        + SearchVector(
            "presenting_complaint", "final_diagnosis", weight="B", config="english"
        )
        + SearchVector(
            "history", "examination", "investigations", weight="C", config="english"
        )
        + SearchVector("working_notes", weight="D", config="english")
    )
    return GinIndex(vector, name=INDEX_NAME)


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.add_index(apps.get_model("cases", "Case"), _index())


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.remove_index(apps.get_model("cases", "Case"), _index())


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_case_pages")]

    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]

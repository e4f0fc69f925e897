"""Row-level security on every tenant-owned table (PostgreSQL only; a no-op on SQLite).

See ``mall/tenancy/rls.py``: ENABLE and FORCE ROW LEVEL SECURITY, and the ``tenant_isolation``
policy comparing ``tenant_id`` with the session setting ``mall.tenant_id`` (or all rows when
``mall.all_tenants`` is ``on``). Run by the owner role; the application role owns nothing.
Tables added by later migrations get the same from the ``post_migrate`` handler.
"""

from django.db import migrations

from mall.tenancy.rls import POLICY_NAME, enable_row_level_security, tenant_owned_tables_of


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    enable_row_level_security(connection, tenant_owned_tables_of(apps.get_models()))


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    for table in tenant_owned_tables_of(apps.get_models()):
        schema_editor.execute(f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}"')
        schema_editor.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
        schema_editor.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')


class Migration(migrations.Migration):
    dependencies = [
        ("mall", "0006_labels"),
        ("catalog", "0004_labels"),
        ("members", "0004_labels"),
        ("promotions", "0002_labels"),
        ("orders", "0002_labels"),
        ("payments", "0005_labels"),
        ("distribution", "0004_labels"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]

"""GET /api/health counts app rows that cannot be read, without calling the deployment unhealthy."""

from __future__ import annotations

import os

import pytest
from azure.data.tables.aio import TableClient

from .test_health import app_env, call_health

__all__ = ["app_env"]  # the fixture, used by name below


@pytest.mark.azurite
async def test_health_counts_unreadable_app_rows_and_stays_healthy(
    app_env: pytest.MonkeyPatch, azurite: str
) -> None:
    app_env.setenv("PimWardenStorage", azurite)
    table_name = os.environ["PIMWARDEN_TABLE_PREFIX"] + "apps"
    async with TableClient.from_connection_string(azurite, table_name) as table:
        await table.create_table()
        await table.create_entity({"PartitionKey": "11111111-1111-1111-1111-111111111111", "RowKey": "app",
                                   "DisplayName": "Broken", "RoleGroups": "{not json"})
        await table.create_entity({"PartitionKey": "22222222-2222-2222-2222-222222222222", "RowKey": "app",
                                   "DisplayName": "Fine", "RoleGroups": "{}"})
    status, body, text = await call_health()
    assert status == 200, text
    assert body["apps"] == {"state_unreadable": 1}
    assert "1111" not in text  # an anonymous caller gets the count, not the app

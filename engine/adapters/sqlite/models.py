"""Trained models in the store: one row per `desk train` and a `model.trained` audit entry
with the same facts, in one unit of work."""

from __future__ import annotations

from typing import Any

from store.db import Store
from store.models import find_model, insert_model, list_models


def record_model(store: Store, row: dict[str, Any], audit: dict[str, Any]) -> int:
    with store.unit_of_work() as conn:
        model_id = insert_model(conn, row)
        store.audit.append("model.trained", "user", {"model_id": model_id, **audit})
    return model_id


def stored_models(store: Store) -> list[dict]:
    conn = store.reader()
    try:
        return list_models(conn)
    finally:
        conn.close()


def stored_model(store: Store, **query: Any) -> dict | None:
    """The model named `name=`, else the newest of `kind=`, `model_type=`, `symbol=`."""
    conn = store.reader()
    try:
        return find_model(conn, **query)
    finally:
        conn.close()

"""Hints for query planners that cannot see what a page will touch.

SQLite keeps no statistics, and PostgreSQL has none until a table is first analysed; both
then take the index with the most equalities. For "this customer's active agreements with
this business" that is (business_id, status): every active agreement of the business, for
every customer on the page. These helpers steer them to the customer_id index.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func

__all__ = ["per_row", "unindexed"]

T = TypeVar("T")


def unindexed(column: ColumnElement[T]) -> ColumnElement[T]:
    """Return the column as an expression no index serves (COALESCE(x, x) is x itself)."""
    return func.coalesce(column, column)


def per_row(subquery: Select[Any]) -> Select[Any]:
    """Keep a correlated EXISTS subquery a check per row, never a join planned the other way.

    With an OFFSET, PostgreSQL does not pull the subquery up into a semi-join, so a page
    walks its ordering index and checks each row, whatever the estimates say.
    """
    return subquery.offset(0)

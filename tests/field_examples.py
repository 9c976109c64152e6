"""Good example values of every catalogue field, shared by schema and vault tests."""

from tests.schemas.test_field_catalogue import GOOD_VALUES

__all__ = ["GOOD_VALUES"]

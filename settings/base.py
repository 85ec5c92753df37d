"""The base of every settings section: camelCase keys, frozen, no unknown keys, errors in the user's words."""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import (
    BaseModel,
    ConfigDict,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


def _custom_error(error_type: str, message: str, **context: Any) -> PydanticCustomError:
    return PydanticCustomError(error_type, message, context)


class _Model(BaseModel):
    """Base for config sections: camelCase keys, immutable, no unknown keys."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        validate_default=True,
        # inf, nan and 1e400 are numbers to Python, never a sane threshold.
        allow_inf_nan=False,
    )

    @model_validator(mode="before")
    @classmethod
    def _booleans_are_not_numbers(cls, data: Any) -> Any:
        """`--path autoscaling.minReplicas true` stores a boolean, which a
        number field would otherwise take as 1."""
        if isinstance(data, Mapping):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                value = data.get(key, data.get(name))
                if isinstance(value, bool) and field.annotation in (int, float):
                    raise _custom_error(
                        "bool_not_number",
                        "must be a number, not true or false",
                        field=key,
                        value=value,
                        suggestion=field.get_default(call_default_factory=True),
                    )
        return data

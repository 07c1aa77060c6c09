"""Bounds on what the API accepts. They are part of the contract: each shows in openapi.json."""

from typing import Annotated

from annotated_types import Ge, Le
from pydantic import Strict, StringConstraints

NAME_MAX_LENGTH = 100
SECRET_NAME_MAX_LENGTH = 100
AGE_MAX = 2**31 - 1  # the age column is a 32-bit INTEGER on PostgreSQL
ID_MAX = 2**63 - 1  # ids and offsets are 64-bit on both databases
PAGE_MAX = 100

# PostgreSQL cannot store NUL in text; refusing it on every database keeps the two alike.
_NO_NUL = r"^[^\x00]*$"

Name = Annotated[str, StringConstraints(max_length=NAME_MAX_LENGTH, pattern=_NO_NUL)]
SecretName = Annotated[str, StringConstraints(max_length=SECRET_NAME_MAX_LENGTH, pattern=_NO_NUL)]
# Strict: the tutorial accepted `true` and `"12"` as ages; the schema says integer.
Age = Annotated[int, Strict(), Ge(0), Le(AGE_MAX)]

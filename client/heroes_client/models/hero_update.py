from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="HeroUpdate")


@_attrs_define
class HeroUpdate:
    """Only the fields present in the body change; `age: null` clears the age.

    Attributes:
        age (int | None | Unset):
        id (int | None | Unset): Ignored: the database assigns ids. Accepted so that tutorial callers keep working.
        name (str | Unset):
        secret_name (str | Unset):
    """

    age: int | None | Unset = UNSET
    id: int | None | Unset = UNSET
    name: str | Unset = UNSET
    secret_name: str | Unset = UNSET
    etag: str | None = _attrs_field(init=False, default=None, eq=False, repr=False)
    """The ETag of the answer that carried this object, if it had one: the version it was read
    at, for a conditional request (if_match=obj, if_none_match=obj). Not part of the
    body: the client sets it."""

    def to_dict(self) -> dict[str, Any]:
        age: int | None | Unset
        if isinstance(self.age, Unset):
            age = UNSET
        else:
            age = self.age

        id: int | None | Unset
        if isinstance(self.id, Unset):
            id = UNSET
        else:
            id = self.id

        name = self.name

        secret_name = self.secret_name

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if age is not UNSET:
            field_dict["age"] = age
        if id is not UNSET:
            field_dict["id"] = id
        if name is not UNSET:
            field_dict["name"] = name
        if secret_name is not UNSET:
            field_dict["secret_name"] = secret_name

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_age(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        age = _parse_age(d.pop("age", UNSET))

        def _parse_id(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        id = _parse_id(d.pop("id", UNSET))

        name = d.pop("name", UNSET)

        secret_name = d.pop("secret_name", UNSET)

        hero_update = cls(
            age=age,
            id=id,
            name=name,
            secret_name=secret_name,
        )

        return hero_update

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="HeroCreate")


@_attrs_define
class HeroCreate:
    """
    Attributes:
        name (str):
        secret_name (str):
        age (int | None | Unset):
        id (int | None | Unset): Ignored: the database assigns ids. Accepted so that tutorial callers keep working.
    """

    name: str
    secret_name: str
    age: int | None | Unset = UNSET
    id: int | None | Unset = UNSET
    etag: str | None = _attrs_field(init=False, default=None, eq=False, repr=False)
    """The ETag of the answer that carried this object, if it had one: the version it was read
    at, for a conditional request (if_match=obj, if_none_match=obj). Not part of the
    body: the client sets it."""

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        secret_name = self.secret_name

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

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "secret_name": secret_name,
            }
        )
        if age is not UNSET:
            field_dict["age"] = age
        if id is not UNSET:
            field_dict["id"] = id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        secret_name = d.pop("secret_name")

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

        hero_create = cls(
            name=name,
            secret_name=secret_name,
            age=age,
            id=id,
        )

        return hero_create

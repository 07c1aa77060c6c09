from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="HeroPublic")


@_attrs_define
class HeroPublic:
    """
    Attributes:
        age (int | None):
        id (int):
        name (str):
    """

    age: int | None
    id: int
    name: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)
    etag: str | None = _attrs_field(init=False, default=None, eq=False, repr=False)
    """The ETag of the answer that carried this object, if it had one: the version it was read
    at, for a conditional request (if_match=obj, if_none_match=obj). Not part of the
    body: the client sets it."""

    def to_dict(self) -> dict[str, Any]:
        age: int | None
        age = self.age

        id = self.id

        name = self.name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "age": age,
                "id": id,
                "name": name,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_age(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        age = _parse_age(d.pop("age"))

        id = d.pop("id")

        name = d.pop("name")

        hero_public = cls(
            age=age,
            id=id,
            name=name,
        )

        hero_public.additional_properties = d
        return hero_public

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties

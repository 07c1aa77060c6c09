from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.health_database import HealthDatabase
from ..models.health_detail import HealthDetail
from ..models.health_status import HealthStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="Health")


@_attrs_define
class Health:
    """
    Attributes:
        database (HealthDatabase):
        status (HealthStatus):
        detail (HealthDetail | None | Unset): Why the service is unavailable, if it is.
    """

    database: HealthDatabase
    status: HealthStatus
    detail: HealthDetail | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)
    etag: str | None = _attrs_field(init=False, default=None, eq=False, repr=False)
    """The ETag of the answer that carried this object, if it had one: the version it was read
    at, for a conditional request (if_match=obj, if_none_match=obj). Not part of the
    body: the client sets it."""

    def to_dict(self) -> dict[str, Any]:
        database = self.database.value

        status = self.status.value

        detail: None | str | Unset
        if isinstance(self.detail, Unset):
            detail = UNSET
        elif isinstance(self.detail, HealthDetail):
            detail = self.detail.value
        else:
            detail = self.detail

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "database": database,
                "status": status,
            }
        )
        if detail is not UNSET:
            field_dict["detail"] = detail

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        database = HealthDatabase(d.pop("database"))

        status = HealthStatus(d.pop("status"))

        def _parse_detail(data: object) -> HealthDetail | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                detail_type_0 = HealthDetail(data)

                return detail_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(HealthDetail | None | Unset, data)

        detail = _parse_detail(d.pop("detail", UNSET))

        health = cls(
            database=database,
            status=status,
            detail=detail,
        )

        health.additional_properties = d
        return health

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

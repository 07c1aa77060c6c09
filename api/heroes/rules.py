"""Conditional requests (RFC 9110, section 13): a hero's ETag, If-Match and If-None-Match.

A hero's ETag is `"<id>.<version>"`; the version changes with every successful write, so two
callers that read the same hero and both write with `If-Match` can't both win: the second finds
the version moved and gets 412, and nothing changes (the check is in the UPDATE's WHERE clause,
so it holds across workers and replicas).
"""

import re
from typing import Any

# One entity tag of a list: optional W/ prefix, then a quoted opaque tag.
_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|$)')


def etag(hero: dict[str, Any]) -> str:
    return f'"{hero["id"]}.{hero["version"]}"'


def _tags(header: str) -> list[tuple[bool, str]] | None:
    """[(weak, opaque tag)], or None for `*`. A malformed list yields what parsed before the
    fault: a condition that names nothing matches nothing."""
    if header.strip() == "*":
        return None
    tags, position = [], 0
    while position < len(header) and (match := _TAG.match(header, position)):
        tags.append((bool(match.group(1)), match.group(2)))
        position = match.end()
    return tags


def if_match_versions(header: str | None, hero_id: int) -> frozenset[int] | None:
    """The versions `If-Match` accepts for this hero: None when any version will do (no header,
    or `*`). Strong comparison: a weak tag never matches."""
    if header is None:
        return None
    tags = _tags(header)
    if tags is None:
        return None
    versions = set()
    for weak, tag in tags:
        hero, _, version = tag.partition(".")
        if not weak and hero == str(hero_id) and version.isdigit():
            versions.add(int(version))
    return frozenset(versions)


def none_match(header: str | None, current: str) -> bool:
    """True when `If-None-Match` names the current representation (weak comparison; `*` names
    any): the caller's copy is current, and a GET answers 304."""
    if header is None:
        return False
    tags = _tags(header)
    return tags is None or any(f'"{tag}"' == current for _weak, tag in tags)

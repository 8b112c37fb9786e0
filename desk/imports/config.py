"""config/imports.toml: which header feeds which field, and what values mean.

Validated when an import starts (`load_imports_config`); a bad file raises
desk.errors.ConfigError naming the key. The file documents every key.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from desk.config_file import config_path, load_toml
from desk.imports.rows import Inquiry, Source

FILENAME = "imports.toml"

_SPACES = re.compile(r"\s+")


def match_key(text: str) -> str:
    """How headers and values are compared: full-width made half-width (NFKC),
    inner spaces collapsed, surrounding spaces dropped, case ignored."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


Synonyms = list[Annotated[str, Field(min_length=1, max_length=100)]]
InquiryValue = Inquiry | Literal[""]
LeadField = Literal[
    "phone", "platform_id", "name", "city", "car_model", "created_at", "channel_path",
    "inquiry", "level", "consultant_name", "assigned_at", "first_contact_at", "visited_at",
    "test_drive_at", "defeat_reason",
]  # fmt: skip
OwnerField = Literal[
    "name", "phone", "qq_id", "wechat", "car_model", "plate", "vin", "purchased_on"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_unique(headers: dict[str, list[str]], where: str) -> None:
    seen: dict[str, str] = {}
    for field, synonyms in headers.items():
        for synonym in synonyms:
            key = match_key(synonym)
            if not key:
                raise ValueError(f"{where}.{field}: empty synonym")
            other = seen.setdefault(key, field)
            if other != field:
                raise ValueError(f"{where}: synonym {synonym!r} names both {other} and {field}")


class LeadHeaders(_Strict):
    """Field -> the headers that feed it (the order matters: see the file)."""

    phone: Annotated[Synonyms, Field(min_length=1)]
    platform_id: Synonyms = []
    name: Synonyms = []
    city: Synonyms = []
    car_model: Synonyms = []
    created_at: Synonyms = []
    channel_path: Synonyms = []
    inquiry: Synonyms = []
    level: Synonyms = []
    consultant_name: Synonyms = []
    assigned_at: Synonyms = []
    first_contact_at: Synonyms = []
    visited_at: Synonyms = []
    test_drive_at: Synonyms = []
    defeat_reason: Synonyms = []


class SourceHeaders(_Strict):
    headers: dict[LeadField, Synonyms] = {}


class InquiryValues(_Strict):
    values: dict[str, InquiryValue] = {}
    by_header: dict[str, dict[str, InquiryValue]] = {}

    @cached_property
    def _values(self) -> dict[str, InquiryValue]:
        return {match_key(k): v for k, v in self.values.items()}

    @cached_property
    def _by_header(self) -> dict[str, dict[str, InquiryValue]]:
        return {
            match_key(h): {match_key(k): v for k, v in m.items()} for h, m in self.by_header.items()
        }

    def lookup(self, header: str, value: str) -> InquiryValue | None:
        """What `value` in the column `header` means; None: not listed."""
        key = match_key(value)
        column = self._by_header.get(match_key(header), {})
        return column[key] if key in column else self._values.get(key)


class LeadsConfig(_Strict):
    headers: LeadHeaders
    join: dict[Literal["name", "city", "car_model", "consultant_name", "defeat_reason"], str] = {}
    sources: dict[Source, SourceHeaders] = {}
    inquiry: InquiryValues = InquiryValues()

    @model_validator(mode="after")
    def _synonyms_unique(self) -> LeadsConfig:
        _check_unique(self.headers.model_dump(), "leads.headers")
        for source in self.sources:
            _check_unique(self.synonyms(source), f"leads.sources.{source}")
        return self

    def synonyms(self, source: str) -> dict[str, list[str]]:
        """Field -> synonyms for a file from `source` (the common ones, then the source's)."""
        merged: dict[str, list[str]] = self.headers.model_dump()
        extra = self.sources.get(source)  # type: ignore[call-overload]
        for field, synonyms in (extra.headers if extra else {}).items():
            merged[field] = [*merged[field], *synonyms]
        return merged


class OwnerHeaders(_Strict):
    name: Synonyms = []
    phone: Synonyms = []
    qq_id: Synonyms = []
    wechat: Synonyms = []
    car_model: Synonyms = []
    plate: Synonyms = []
    vin: Synonyms = []
    purchased_on: Synonyms = []

    @model_validator(mode="after")
    def _has_a_handle(self) -> OwnerHeaders:
        if not (self.phone or self.qq_id or self.wechat):
            raise ValueError("phone, qq_id or wechat needs synonyms")
        return self


class OwnersConfig(_Strict):
    headers: OwnerHeaders
    join: dict[Literal["name", "car_model"], str] = {}

    @model_validator(mode="after")
    def _synonyms_unique(self) -> OwnersConfig:
        _check_unique(self.headers.model_dump(), "owners.headers")
        return self


class ImportsConfig(_Strict):
    """config/imports.toml, validated."""

    leads: LeadsConfig
    owners: OwnersConfig
    # The level a new lead gets from its inquiry type when the file rates none
    # (desk.imports.write); an inquiry not listed leaves it N (rated at first contact).
    level_by_inquiry: dict[Inquiry, Literal["H", "A", "B", "C", "O"]] = {}


def load_imports_config(path: Path | None = None) -> ImportsConfig:
    """imports.toml from the config dir (DESK_CONFIG_DIR), else the repository's."""
    return load_toml(ImportsConfig, path or config_path(FILENAME), "imports config")

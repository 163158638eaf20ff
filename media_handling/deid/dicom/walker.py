"""Apply the profile to every attribute of a dataset, at every depth.

Each attribute gets one action: the resolved Table E.1-1 code (see
``dicom_profile.resolve_action``), else a rule by VR for attributes the table
does not list: person names get a dummy (D), dates are removed (X), instance
UIDs replaced (U, class/syntax/coding UIDs kept), free text and URLs removed
unless they are terminology, unknown public tags removed; everything else is
kept (K), and kept sequences are cleaned item by item. Options then override:
patient sex and age kept at the top level, descriptors kept ("KD") with
``keep_descriptors``, DA/DT shifted ("C") and TM kept with ``date_shift_days``.
Private groups, curves (50xx), overlays (60xx) and group lengths always go.
Raw elements are only decoded when their value is needed, which keeps the
walk cheap: most attributes are kept or deleted without being parsed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset

from .. import dicom_profile as profile
from .base import DicomDeidOptions
from .values import is_well_known_uid, map_uid, shift_da, shift_dt

ANONYMOUS_NAME = "ANONYMOUS"
_DUMMY_TEXT = "ANONYMIZED"
_DUMMY_BY_VR: dict[str, Any] = {
    "AE": "ANONYMOUS",
    "AS": "000Y",
    "CS": _DUMMY_TEXT,
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000",
    "IS": "0",
    "LO": _DUMMY_TEXT,
    "LT": _DUMMY_TEXT,
    "PN": ANONYMOUS_NAME,
    "SH": _DUMMY_TEXT,
    "ST": _DUMMY_TEXT,
    "TM": "000000",
    "UC": _DUMMY_TEXT,
    "UT": _DUMMY_TEXT,
    "UR": "",
    "FL": 0.0,
    "FD": 0.0,
    "SL": 0,
    "SS": 0,
    "SV": 0,
    "UL": 0,
    "US": 0,
    "UV": 0,
    "AT": 0,
}
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_FREE_TEXT_VRS = frozenset({"LT", "ST", "UT", "UC"})


# UI attributes outside Table E.1-1 whose values name a class, syntax or
# coding resource, never an instance: kept.
_KEPT_UI_KEYWORD_SUFFIXES = (
    "ClassUID",
    "ClassUIDInFile",
    "SyntaxUID",
    "SyntaxUIDInFile",
)
_KEPT_UI_KEYWORDS = frozenset(
    {
        "SOPClassesInStudy",
        "SOPClassesSupported",
        "PertinentSOPClassesInStudy",
        "PertinentSOPClassesInSeries",
        "CodingSchemeUID",
        "ContextGroupExtensionCreatorUID",
        "ContextUID",
        "MappingResourceUID",
        "CreatorVersionUID",
    }
)


# Free text outside Table E.1-1 that is terminology, not narrative: kept.
_KEPT_TEXT_KEYWORDS = frozenset(
    {
        "ExtendedCodeMeaning",
        "LongCodeValue",
        "CodingSchemeName",
        "CodingSchemeExternalID",
        "CodingSchemeResponsibleOrganization",
        "ImageDisplayFormat",
        "MaskOperationExplanation",
    }
)
_KEPT_URL_KEYWORDS = frozenset({"CodingSchemeURL", "URNCodeValue"})


@lru_cache(maxsize=8192)
def _tag_info(tag: int) -> tuple[str, str]:
    """(keyword, dictionary VR) for a tag; ("", "") when unknown."""
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return "", ""
    return keyword_for_tag(tag), vr


def _keyword(tag: int) -> str:
    return _tag_info(tag)[0] or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


@lru_cache(maxsize=8192)
def _base_action(tag: int) -> str:
    """The action for a tag before options; see the module docstring."""
    code = profile.BASIC_PROFILE_CODES.get(tag) or profile.EXTRA_CODES.get(tag)
    if code is not None:
        return profile.resolve_action(code)
    keyword, vr = _tag_info(tag)
    if not vr:
        return "X"  # unknown public attribute: cannot judge it, so drop it
    if vr == "PN":
        return "D"
    if vr in ("DA", "DT"):
        return "X"
    if vr == "UI":
        if keyword.endswith(_KEPT_UI_KEYWORD_SUFFIXES) or keyword in _KEPT_UI_KEYWORDS:
            return "K"
        return "U"
    if vr in _FREE_TEXT_VRS:
        return "K" if keyword in _KEPT_TEXT_KEYWORDS else "X"
    if vr == "UR":
        return "K" if keyword in _KEPT_URL_KEYWORDS else "X"
    if vr == "AE":
        return "X"
    return "K"


@dataclass
class Context:
    """Options for one dataset and the tallies that become its report."""

    options: DicomDeidOptions
    type1: bool
    removed: Counter[str] = field(default_factory=Counter)
    emptied: Counter[str] = field(default_factory=Counter)
    replaced: Counter[str] = field(default_factory=Counter)
    kept_descriptors: set[str] = field(default_factory=set)
    uids_replaced: int = 0
    dates_shifted: int = 0
    private_removed: int = 0


def _action(tag: int, ctx: Context, top: bool) -> str:
    action = _base_action(tag)
    options = ctx.options
    if top and tag in profile.KEEP_CODES:
        return "K"
    if options.keep_descriptors and tag in profile.DESCRIPTOR_TAGS:
        return "KD"
    if ctx.type1 and tag in profile.TYPE1_IN_ENHANCED_OR_SR:
        action = profile.resolve_action(profile.BASIC_PROFILE_CODES[tag], type1=True)
    if options.date_shift_days is not None and tag not in profile.NEVER_SHIFTED_TAGS:
        vr = _tag_info(tag)[1]
        if vr in ("DA", "DT"):
            return "C"
        if vr == "TM" and action != "K":
            return "K"
    return action


def _is_empty(elem: DataElement | RawDataElement) -> bool:
    if isinstance(elem, RawDataElement):
        return elem.length == 0
    return elem.is_empty


def _element_vr(tag: int, elem: DataElement | RawDataElement) -> str:
    vr = _tag_info(tag)[1]
    if vr and " or " not in vr:
        return vr
    return elem.VR or "UN"


def _values(elem: DataElement) -> list[str]:
    value = elem.value
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes):
        return [value.decode("ascii", "replace") if isinstance(value, bytes) else value]
    return [str(v) for v in value]


def _set_values(elem: DataElement, values: list[str]) -> None:
    elem.value = values[0] if len(values) == 1 else values


def clean_dataset(ds: Dataset, ctx: Context, *, top: bool = False) -> None:
    """Apply every attribute's action to ``ds`` and, recursively, its items.

    An element whose value cannot be parsed is removed: what cannot be
    examined cannot be kept.
    """
    options = ctx.options
    for tag in list(ds.keys()):
        tag = int(tag)
        group = tag >> 16
        if profile.is_private_group(group):
            del ds[tag]
            ctx.private_removed += 1
            continue
        if tag & 0xFFFF == 0 or group == 0x0002:
            del ds[tag]  # group lengths; file meta never belongs in the body
            continue
        if profile.is_curve_or_overlay_group(group):
            del ds[tag]
            ctx.removed["Curve" if group < 0x6000 else "Overlay"] += 1
            continue
        action = _action(tag, ctx, top)
        elem = ds.get_item(tag)
        vr = _element_vr(tag, elem)
        keyword = _keyword(tag)
        if action == "X":
            del ds[tag]
            ctx.removed[keyword] += 1
            continue
        if action == "KD":
            if not _is_empty(elem):
                ctx.kept_descriptors.add(keyword)
            continue
        if action == "K" and vr != "SQ":
            continue
        try:
            _apply(ds, tag, vr, action, keyword, elem, ctx, options)
        except (ValueError, TypeError, NotImplementedError, AttributeError, KeyError):
            # A value pydicom cannot parse cannot be examined, so it goes.
            if tag in ds:
                del ds[tag]
            ctx.removed[keyword] += 1


def _apply(
    ds: Dataset,
    tag: int,
    vr: str,
    action: str,
    keyword: str,
    raw: DataElement | RawDataElement,
    ctx: Context,
    options: DicomDeidOptions,
) -> None:
    if action == "Z":
        if not _is_empty(raw):
            ds.add_new(tag, vr, [] if vr == "SQ" else None)
            ctx.emptied[keyword] += 1
        return
    if vr == "SQ":
        # K, D and U* on a sequence: keep it, clean every item.
        for item in ds[tag].value:
            clean_dataset(item, ctx)
        if action == "D":
            ctx.replaced[keyword] += 1
        return
    if action in ("U", "D") and vr == "UI":
        elem = ds[tag]
        values = _values(elem)
        new = [
            v if is_well_known_uid(v) else map_uid(options.uid_key, v) for v in values
        ]
        if new != values:
            _set_values(elem, new)
            ctx.uids_replaced += sum(a != b for a, b in zip(new, values, strict=True))
        return
    if action == "U":
        # U on a non-UI VR does not occur in the table; stay on the safe side.
        del ds[tag]
        ctx.removed[keyword] += 1
        return
    if action == "D":
        if _is_empty(raw):
            return
        if vr in _BINARY_VRS:
            ds.add_new(tag, vr, b"\x00\x00")
        else:
            ds.add_new(tag, vr, _DUMMY_BY_VR.get(vr, _DUMMY_TEXT))
        ctx.replaced[keyword] += 1
        return
    if action == "C":
        _shift_element(ds, tag, vr, keyword, ctx, options.date_shift_days or 0)
        return
    raise ValueError(f"unhandled action {action}")


def _shift_element(
    ds: Dataset, tag: int, vr: str, keyword: str, ctx: Context, days: int
) -> None:
    elem = ds[tag]
    values = _values(elem)
    if not values:
        return
    shift = shift_da if vr == "DA" else shift_dt
    shifted = [shift(v, days) for v in values]
    if any(s is None for s in shifted):
        del ds[tag]  # unparseable or partial dates cannot be shifted safely
        ctx.removed[keyword] += 1
        return
    _set_values(elem, [s for s in shifted if s is not None])
    ctx.dates_shifted += 1

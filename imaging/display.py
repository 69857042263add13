"""Short human-readable descriptions of findings and amendments for the clinic pages.

Pure functions over model instances already loaded (no queries) or plain dicts. Choice
labels come from `LABELS` (the fields' own choices), not `get_FOO_display()`, which
rebuilds the choices dict on every call: the timeline lists ten years of findings.
"""

from typing import Any

from . import vocabulary as v

LABELS: dict[str, dict[str, str]] = {
    "morphology": dict(v.Morphology.choices),
    "distribution": dict(v.Distribution.choices),
    "observed_change": dict(v.ObservedChange.choices),
    "lesion_type": dict(v.LesionType.choices),
    "kinetics_delayed": dict(v.KineticsDelayed.choices),
    "kinetics_initial": dict(v.KineticsInitial.choices),
    "birads": dict(v.BiRads.choices),
    "phase": dict(v.Phase.choices),
    "breast_composition": dict(v.BreastComposition.choices),
    "bpe": dict(v.Bpe.choices),
    "modality": dict(v.Modality.choices),
}

FIELD_NAMES = {
    "extent_mm": "extent (mm)", "count_bin": "count bin", "size_mm": "size (mm)",
    "observed_change": "change", "birads": "BI-RADS", "bpe": "BPE", "no_enhancement": "no enhancement",
    "report_text": "report", "study_date": "study date", "breast_composition": "composition",
    "inside_tumor_bed": "inside tumour bed", "clip_present": "clip",
    "nipple_distance_mm": "distance from nipple (mm)", "kinetics_delayed": "delayed kinetics",
    "kinetics_initial": "initial kinetics", "lesion_type": "type",
}


def _num(value: Any) -> str:
    return f"{float(value):g}" if value is not None else "–"


def label(field: str, value: Any) -> str:
    """What `instance.get_<field>_display()` gives for `value` (the value itself when it is
    not one of the choices)."""
    return str(LABELS[field].get(value, value))


def calcification_summary(c) -> str:
    """e.g. 'L1 left: 12 mm, fine pleomorphic, segmental, >20 — stable'."""
    text = (f"{c.group} {c.laterality}: {_num(c.extent_mm)} mm, {label('morphology', c.morphology).lower()}, "
            f"{label('distribution', c.distribution).lower()}, {c.count_bin}")
    if c.observed_change:
        text += f" — {label('observed_change', c.observed_change).lower()}"
    return text


def enhancement_summary(e) -> str:
    """e.g. 'E1 left: non-mass enhancement, 20 mm, washout (type 3)'."""
    parts = [label("lesion_type", e.lesion_type).lower()]
    if e.size_mm is not None:
        parts.append(f"{_num(e.size_mm)} mm")
    if e.kinetics_delayed:
        parts.append(label("kinetics_delayed", e.kinetics_delayed).lower())
    text = f"{e.lesion} {e.laterality}: " + ", ".join(parts)
    if e.observed_change:
        text += f" — {label('observed_change', e.observed_change).lower()}"
    return text


def _value(field: str, value: Any) -> str:
    if value in (None, ""):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return LABELS.get(field, {}).get(value, str(value))


def _row_label(row: dict, key: str) -> str:
    return f"{row.get(key, '?')} {row.get('laterality', '')}".strip()


def _finding_changes(name: str, key: str, before: list[dict], after: list[dict]) -> list[str]:
    """Per finding (matched by label and breast): added, removed, or field-by-field."""
    old = {(r.get(key), r.get("laterality")): r for r in before or []}
    new = {(r.get(key), r.get("laterality")): r for r in after or []}
    lines = []
    for ident in sorted(set(old) | set(new), key=lambda i: (str(i[0]), str(i[1]))):
        o, n = old.get(ident), new.get(ident)
        row = o or n
        assert row is not None  # the key came from one of the two
        label = f"{name} {_row_label(row, key)}"
        if o is None:
            lines.append(f"{label} added")
        elif n is None:
            lines.append(f"{label} removed")
        else:
            for f in sorted(set(o) | set(n)):
                if o.get(f) != n.get(f):
                    lines.append(f"{label}: {FIELD_NAMES.get(f, f.replace('_', ' '))} "
                                 f"{_value(f, o.get(f))} → {_value(f, n.get(f))}")
    return lines


def amendment_lines(changes: dict) -> list[str]:
    """What an amendment changed, one line per field or finding field."""
    lines = []
    for field, change in sorted(changes.items()):
        before, after = change.get("before"), change.get("after")
        if field == "calcifications":
            lines += _finding_changes("Group", "group", before, after)
        elif field == "enhancements":
            lines += _finding_changes("Lesion", "lesion", before, after)
        else:
            name = FIELD_NAMES.get(field, field.replace("_", " "))
            lines.append(f"{name[:1].upper()}{name[1:]}: {_value(field, before)} → {_value(field, after)}")
    return lines

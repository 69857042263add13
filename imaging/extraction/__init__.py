"""Proposed structured findings from the English text of a breast mammography or MRI report.

    from imaging.extraction import extract
    proposal = extract(report_text, modality="MG")  # "MG", "MR", or None to infer it
    proposal.birads, proposal.calcifications[0].morphology, proposal.evidence

Pure Python: rules and a lexicon, no database, no model. What it proposes, how, and how
well (measured by `manage.py extraction_scores`) is in docs/report-extraction.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from . import assessment, findings, study
from .analysis import View, analyse
from .proposal import CalcProposal, EnhProposal, Proposal, Span
from .text import normalise, split_units

__all__ = ["CalcProposal", "EnhProposal", "Proposal", "Span", "extract"]

MAMMOGRAPHY, MRI = "MG", "MR"


def extract(text: str, modality: str | None = None) -> Proposal:
    """Propose a study's findings from its report text. `modality` is "MG", "MR", "US" or None."""
    source = normalise(text)
    units = split_units(source)
    modality = modality or study.infer_modality(source)
    # An ultrasound report gets the study fields only; an unknown modality is read both ways.
    readings = [modality] if modality in (MAMMOGRAPHY, MRI) else [] if modality else [MAMMOGRAPHY, MRI]
    views = {m: [analyse(unit, i, source, m) for i, unit in enumerate(units)] for m in readings}
    evidence: dict[str, Span] = {}
    laterality, span = study.laterality(units, next(iter(views.values()), []), source)
    _note(evidence, "laterality", span)
    birads = _found(evidence, "birads", assessment.birads(source, units))
    study_breast = laterality if laterality in ("left", "right") else None

    composition: str | None = None
    calcifications: tuple[CalcProposal, ...] = ()
    if MAMMOGRAPHY in views:
        composition = _found(evidence, "breast_composition", assessment.composition(source, units))
        drafts = findings.Reader(findings.CALCIFICATIONS, source, study_breast).read(views[MAMMOGRAPHY])
        calcifications = tuple(_calcification(d) for d in drafts)
    bpe, no_enhancement = None, False
    enhancements: tuple[EnhProposal, ...] = ()
    if MRI in views:
        bpe, span = study.bpe(views[MRI], source)
        _note(evidence, "bpe", span)
        drafts = findings.Reader(findings.LESIONS, source, study_breast).read(views[MRI])
        enhancements = tuple(_enhancement(d) for d in drafts)
        no_enhancement = _no_enhancement(views[MRI], source, enhancements, evidence)
    proposal = Proposal(modality=modality, birads=birads, breast_composition=composition,
                        laterality=laterality, bpe=bpe, no_enhancement=no_enhancement,
                        calcifications=calcifications, enhancements=enhancements,
                        study_evidence=_frozen(evidence))
    return _with_original_text(proposal, text) if source != text else proposal


def _note(evidence: dict[str, Span], name: str, span: Span | None) -> None:
    if span is not None:
        evidence[name] = span


def _found(evidence: dict[str, Span], name: str, found: assessment.Found | None) -> str | None:
    if found is None:
        return None
    evidence[name] = found.span
    return found.value


def _no_enhancement(views: list[View], source: str, lesions: tuple[EnhProposal, ...],
                    evidence: dict[str, Span]) -> bool:
    """Said explicitly, and no lesion remains (one "no longer seen" does not enhance)."""
    if any(lesion.observed_change != "no_longer_seen" for lesion in lesions):
        return False
    span = study.no_enhancement_statement(views, source)
    _note(evidence, "no_enhancement", span)
    return span is not None


def _frozen(evidence: Mapping[str, Span]) -> Mapping[str, Span]:
    return MappingProxyType(dict(evidence))


def _with_original_text(proposal: Proposal, text: str) -> Proposal:
    """Evidence quotes what the radiologist wrote (curly quotes and all), not the normalised copy."""
    def quoted(evidence: Mapping[str, Span]) -> Mapping[str, Span]:
        return _frozen({key: Span(s.start, s.end, text[s.start:s.end]) for key, s in evidence.items()})

    return replace(
        proposal, study_evidence=quoted(proposal.study_evidence),
        calcifications=tuple(replace(c, evidence=quoted(c.evidence)) for c in proposal.calcifications),
        enhancements=tuple(replace(e, evidence=quoted(e.evidence)) for e in proposal.enhancements))


def _calcification(draft: findings.Draft) -> CalcProposal:
    return CalcProposal(laterality=draft.breast, evidence=_frozen(draft.evidence), **draft.values)


# Mass descriptors describe masses, distribution and internal pattern describe non-mass enhancement.
_ONLY_FOR = {"mass_shape": "mass", "mass_margin": "mass", "nme_distribution": "nme", "nme_pattern": "nme"}


def _enhancement(draft: findings.Draft) -> EnhProposal:
    kind = draft.values.get("lesion_type")
    values = {k: val for k, val in draft.values.items() if _ONLY_FOR.get(k, kind) == kind}
    evidence = {k: span for k, span in draft.evidence.items() if k in values or k == "laterality"}
    return EnhProposal(laterality=draft.breast, evidence=_frozen(evidence), **values)

"""Findings proposed from a report's text, by the report-text extractor (`imaging.extraction`).

The feed keeps them with the draft (`imaging.services.study_propose`); the study form shows
them prefilled and marked as proposed. Nothing proposed is ever signed without a person.
"""

from imaging.extraction import extract


def propose(report_text: str, modality: str) -> dict | None:
    """The extractor's proposal as plain JSON, or None for an empty report."""
    if not report_text.strip():
        return None
    return extract(report_text, modality).as_dict()

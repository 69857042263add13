"""Deterministic generator of labelled synthetic breast imaging reports (JSON lines).

    python -m tests.imaging.extraction.corpus.generate [--seed 18] [--count 360] [--out PATH]

Each report is sampled as structure first (study, calcification groups, MRI lesions), then
written out by one of six report styles with randomly chosen phrasings, orderings,
distractor sentences (history, clips, masses with sizes, previous sizes, nipple distances,
negated findings) and occasional typos. The labels come from the sampled structure, never
from the text, so the extractor is measured against what the generator meant.

Labelling conventions (the same as the hand-written set, docs/report-extraction.md):
study laterality from the exam title or "both breasts", else bilateral when both breasts
are described, else null; one calcification entry per group per breast; extent is the
current largest dimension in mm; "no longer seen" groups have no extent; no_enhancement
only when the report says so explicitly (not "no new enhancement") and no lesion remains.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from decimal import Decimal
from pathlib import Path

from .phrases import (
    CHANGE_PRE,
    MG_DISTRACTORS,
    MG_NEGATIVE_HEADED,
    MG_NEGATIVE_SIDE,
    MG_NEGATIVE_STUDY,
    MORPH_WORDS,
    MR_DISTRACTORS,
    MR_NEGATIVE_HEADED,
    MR_NEGATIVE_SIDE,
    MR_NEUTRAL_HEADED,
    MR_NEUTRAL_SIDE,
    MR_NO_ENHANCEMENT,
    MR_NO_NEW,
    SECTION_HEADS,
    cap,
    joined,
)
from .sentences import (
    Ctx,
    bilateral_benign_sentence,
    birads_line,
    calc_sentence,
    composition_line,
    history_line,
    lesion_sentence,
    structured_calc_block,
    structured_lesion_block,
    study_title,
    two_groups_sentence,
)
from .structure import OTHER, SIDES, Calc, Study, sample_study

DEFAULT_SEED = 18
DEFAULT_COUNT = 360
DEFAULT_OUT = Path(__file__).with_name("generated.jsonl")


def findings_sentences(ctx: Ctx, breast: str) -> list[str]:
    """The sentences about one breast, findings first then, if none, a negative."""
    rng, s = ctx.rng, ctx.study
    if s.modality == "MG":
        calcs = [c for c in s.calcs if c.breast == breast and not c.shared]
        if len(calcs) == 2 and rng.random() < 0.35:
            for c in calcs:
                c.group = None  # this sentence names no group labels
            out = [two_groups_sentence(ctx, *calcs)]
        else:
            out = [calc_sentence(ctx, c) for c in calcs]
        if not calcs:
            out.append(rng.choice(MG_NEGATIVE_HEADED) if ctx.side_in_heading
                       else rng.choice(MG_NEGATIVE_SIDE).format(b=breast, B=breast.capitalize()))
        return out
    lesions = [le for le in s.lesions if le.breast == breast]
    out = [lesion_sentence(ctx, le) for le in lesions]
    if not lesions and rng.random() < 0.25:  # says nothing explicit about enhancement
        out.append(rng.choice(MR_NEUTRAL_HEADED) if ctx.side_in_heading
                   else rng.choice(MR_NEUTRAL_SIDE).format(b=breast, B=breast.capitalize()))
    elif not lesions or (all(le.change == "no_longer_seen" for le in lesions) and rng.random() < 0.7):
        if ctx.side_in_heading:
            out.append(rng.choice(MR_NEGATIVE_HEADED))
        else:
            out.append(rng.choice(MR_NEGATIVE_SIDE).format(b=breast, B=breast.capitalize()))
        ctx.said_no_enhancement = True
    return out


def add_bilateral_benign(ctx: Ctx) -> str | None:
    """Sometimes one sentence describes benign calcifications in both breasts: two groups."""
    rng, s = ctx.rng, ctx.study
    if s.modality != "MG" or s.laterality != "bilateral" or rng.random() > 0.12:
        return None
    morph = rng.choice(["vascular", "round", "coarse_popcorn", "rim"])
    s.calcs += [Calc(breast, morph, "diffuse", None, None, shared=True) for breast in SIDES]
    return bilateral_benign_sentence(rng, morph)


def distractors(ctx: Ctx) -> list[str]:
    rng, s = ctx.rng, ctx.study
    pool = MG_DISTRACTORS if s.modality == "MG" else MR_DISTRACTORS
    other = OTHER[s.treated]
    chosen = rng.sample(pool, k=rng.choice([0, 1, 1, 2]))
    if s.surgery != "bcs":
        chosen = [d for d in chosen if "lumpectomy" not in d]
    if s.laterality != "bilateral":  # only the imaged breast is described
        chosen = [d for d in chosen if "{o}" not in d and ("{t}" not in d or s.laterality == s.treated)]
    return [d.format(t=s.treated if s.laterality in ("bilateral", s.treated) else other, o=other)
            for d in chosen]


def mr_study_lines(ctx: Ctx) -> list[str]:
    rng, s = ctx.rng, ctx.study
    lines = []
    if rng.random() < 0.6:
        lines.append(rng.choice(["Amount of fibroglandular tissue: {f}.", "FGT: {f}.",
                                 "Breast composition: {f} fibroglandular tissue."]).format(
            f=rng.choice(["almost entirely fat", "scattered", "heterogeneous", "extreme"])))
    if s.bpe:
        lines.append(rng.choice(["Background parenchymal enhancement is {b}.", "BPE: {b}.", "{B} BPE.",
                                 "Background enhancement: {b}."]).format(b=s.bpe, B=s.bpe.capitalize()))
    return lines


def closing_no_enhancement(ctx: Ctx) -> str:
    """An MRI with no remaining lesion may say so as a whole, or only that nothing is new."""
    rng, s = ctx.rng, ctx.study
    remaining = [le for le in s.lesions if le.change != "no_longer_seen"]
    if s.modality != "MR" or remaining:
        return rng.choice(MR_NO_NEW) if s.modality == "MR" and rng.random() < 0.2 else ""
    roll = rng.random()
    if roll < 0.55:
        ctx.said_no_enhancement = True
        pool = MR_NO_ENHANCEMENT if s.laterality == "bilateral" else [
            line for line in MR_NO_ENHANCEMENT if "either" not in line]
        return rng.choice(pool)
    return rng.choice(MR_NO_NEW) if roll < 0.75 else ""


def impression_lines(ctx: Ctx) -> list[str]:
    rng, s = ctx.rng, ctx.study
    lines = []
    for c in s.calcs:
        if rng.random() < 0.35 and c.morphology and not c.shared:
            pre = rng.choice(CHANGE_PRE.get(c.change or "", [""]))
            lines.append(cap(joined(pre, rng.choice(MORPH_WORDS[c.morphology]), "calcifications in the",
                                    c.breast, "breast")) + ".")
    for le in s.lesions:
        if rng.random() < 0.3 and le.change != "no_longer_seen":
            word = {"mass": "mass", "focus": "focus", "nme": "non-mass enhancement"}[le.lesion_type]
            lines.append(f"Residual {word} in the {le.breast} breast.")
    if not s.calcs and not s.lesions and rng.random() < 0.5:
        lines.append(rng.choice(["No evidence of malignancy.", "Negative study.", "Benign findings."]))
    return lines


def render(study: Study, rng: random.Random) -> tuple[str, bool, str | None]:
    """The report text, whether it states 'no enhancement', and the study laterality it states."""
    style = rng.choice(["classic", "per_breast", "narrative", "structured", "telegraphic", "numbered"])
    ctx = Ctx(rng, study, style)
    if style == "structured":
        text, stated = render_structured(ctx)
    elif style == "narrative":
        text, stated = render_narrative(ctx)
    else:
        text, stated = render_sectioned(ctx)
    if style == "telegraphic":
        text = telegraphic(rng, text)
    if rng.random() < 0.22:
        text = add_typos(rng, text)
    return text, ctx.said_no_enhancement, stated


def study_lines(ctx: Ctx) -> list[str]:
    """Composition on a mammogram; fibroglandular tissue and BPE on an MRI."""
    s = ctx.study
    if s.modality == "MG":
        return [composition_line(ctx)] if s.composition else []
    return mr_study_lines(ctx)


def body_sentences(ctx: Ctx) -> list[str]:
    rng, s = ctx.rng, ctx.study
    out = study_lines(ctx)
    benign = add_bilateral_benign(ctx)
    breasts = list(s.imaged)
    rng.shuffle(breasts)
    for breast in breasts:
        out += findings_sentences(ctx, breast)
    if benign:
        out.insert(rng.randint(1 if out else 0, len(out)), benign)
    extra = distractors(ctx)
    for line in extra:
        out.insert(rng.randint(0, len(out)), line)
    closing = closing_no_enhancement(ctx)
    if closing:
        out.append(closing)
    if s.modality == "MG" and rng.random() < 0.3:
        out.append(rng.choice(MG_NEGATIVE_STUDY) if not s.calcs else
                   rng.choice(["No new calcifications.", "No other suspicious calcifications."]))
    return out


def render_sectioned(ctx: Ctx) -> tuple[str, str]:
    rng, s = ctx.rng, ctx.study
    heads = rng.choice([("HISTORY", "COMPARISON", "FINDINGS", "IMPRESSION"),
                        ("Clinical indication", "Comparison", "Findings", "Impression"),
                        ("INDICATION", "COMPARISON", "REPORT", "CONCLUSION"),
                        ("Clinical details", "Prior studies", "Report", "Opinion")])
    parts = [study_title(ctx), f"{heads[0]}: {history_line(ctx)}"]
    if rng.random() < 0.6:
        parts.append(f"{heads[1]}: {rng.choice(['05/2023', '2022 and 2023', 'None.', 'MRI of 01/2024'])}")
    if ctx.style == "per_breast" or (ctx.style != "numbered" and rng.random() < 0.3):
        parts.append(f"{heads[2]}:\n" + per_breast_block(ctx))
    else:
        body = body_sentences(ctx)
        if ctx.style == "numbered":
            body = [f"{i}. {line}" for i, line in enumerate(body, 1)]
            parts.append(f"{heads[2]}:\n" + "\n".join(body))
        else:
            parts.append(f"{heads[2]}:\n" + paragraphs(rng, body))
    impression = impression_lines(ctx) + [birads_line(ctx)]
    parts.append(f"{heads[3]}:\n" + "\n".join(line for line in impression if line))
    return "\n".join(parts), s.laterality


def per_breast_block(ctx: Ctx) -> str:
    rng, s = ctx.rng, ctx.study
    lines = study_lines(ctx)
    benign = add_bilateral_benign(ctx)
    if benign:
        lines.append(benign)
    ctx.side_in_heading = True
    breasts = list(s.imaged)
    if rng.random() < 0.7:
        breasts.sort(key=lambda b: b != "right")  # radiologists mostly report right first
    for breast in breasts:
        inline = rng.random() < 0.6
        sentences = " ".join(findings_sentences(ctx, breast))
        head = rng.choice(SECTION_HEADS[breast])
        lines.append(f"{head} {sentences}" if inline else f"{head}\n{sentences}")
    ctx.side_in_heading = False
    closing = closing_no_enhancement(ctx)
    if closing:
        lines.append(closing)
    return "\n".join(lines)


def paragraphs(rng: random.Random, sentences: list[str]) -> str:
    out, current = [], []
    for sentence in sentences:
        current.append(sentence)
        if rng.random() < 0.35:
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return rng.choice(["\n", "\n\n"]).join(out)


def render_narrative(ctx: Ctx) -> tuple[str, str | None]:
    """No headings: the laterality is stated only if the opening sentence says it."""
    rng, s = ctx.rng, ctx.study
    name = "mammography" if s.modality == "MG" else "MRI"
    if rng.random() < 0.6:
        side = "Bilateral" if s.laterality == "bilateral" else f"{s.laterality.capitalize()}"
        why = rng.choice(["", " for surveillance", " after neoadjuvant chemotherapy"])
        opening = f"{side} {name} was performed{why}."
        stated = s.laterality
    else:
        opening = f"{cap(name)} {rng.choice(['report', 'performed for follow-up'])}."
        # Without a title the laterality is known only when both breasts are described.
        stated = "bilateral" if s.laterality == "bilateral" else None
    body = body_sentences(ctx)
    closing = [line for line in impression_lines(ctx) + [birads_line(ctx)] if line]
    return " ".join([opening, *body, *closing]), stated


def render_structured(ctx: Ctx) -> tuple[str, str]:
    s = ctx.study
    lines = [study_title(ctx), f"Indication: {history_line(ctx)}"]
    if s.modality == "MG":
        if s.composition:
            lines.append(f"Breast composition: {s.composition.upper()}")
        blocks = [structured_calc_block(ctx, c) for c in s.calcs]
        lines.append("Findings:")
        lines += blocks or ["Calcifications: none."]
    else:
        lines += mr_study_lines(ctx)
        lines.append("Findings:")
        lines += [structured_lesion_block(ctx, le, i) for i, le in enumerate(s.lesions, 1)]
        closing = closing_no_enhancement(ctx)
        if closing:
            lines.append(closing)
        elif not s.lesions:
            lines.append("Lesions: none.")
    if s.birads is not None:
        lines.append(f"Assessment: BI-RADS {s.birads}")
    return "\n".join(lines), s.laterality


def telegraphic(rng: random.Random, text: str) -> str:
    """Dictated shorthand: abbreviations a hurried radiologist uses."""
    for long, short in [("left breast", "L breast"), ("right breast", "R breast"), ("with ", "w/ "),
                        ("upper outer quadrant", "UOQ"), ("lower inner quadrant", "LIQ"),
                        ("neoadjuvant chemotherapy", "NAC"), ("status post", "s/p")]:
        if rng.random() < 0.7:
            text = text.replace(long, short)
    return text


TYPO_WORDS = ("calcifications", "microcalcifications", "pleomorphic", "amorphous", "heterogeneous",
              "segmental", "distribution", "enhancement", "persistent", "plateau", "washout", "grouped",
              "clustered", "regional", "spiculated", "circumscribed", "dystrophic", "vascular", "branching")


def typo(rng: random.Random, word: str) -> str:
    """One realistic slip of the keyboard, never on the first letter."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["swap", "drop", "double"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def add_typos(rng: random.Random, text: str) -> str:
    for _ in range(rng.choice([1, 1, 2])):
        words = [m for m in re.finditer(r"[A-Za-z]+", text) if m.group().lower() in TYPO_WORDS]
        if not words:
            break
        hit = rng.choice(words)
        text = text[:hit.start()] + typo(rng, hit.group()) + text[hit.end():]
    return text


def _num(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral() else float(value)


def labels(study: Study, no_enhancement: bool, laterality: str | None) -> dict:
    remaining = [le for le in study.lesions if le.change != "no_longer_seen"]
    return {
        "birads": study.birads,
        "breast_composition": study.composition,
        "laterality": laterality,
        "no_enhancement": study.modality == "MR" and no_enhancement and not remaining,
        "calcifications": [
            {"laterality": c.breast, "morphology": c.morphology, "distribution": c.distribution,
             "extent_mm": _num(c.extent_mm), "observed_change": c.change, "quadrant": c.quadrant,
             "clock": c.clock, "group": c.group}
            for c in study.calcs
        ],
        "enhancements": [
            {"laterality": le.breast, "lesion_type": le.lesion_type, "size_mm": _num(le.size_mm),
             "kinetics_initial": le.kinetics_initial, "kinetics_delayed": le.kinetics_delayed,
             "mass_shape": le.mass_shape, "mass_margin": le.mass_margin,
             "nme_distribution": le.nme_distribution, "observed_change": le.change,
             "quadrant": le.quadrant, "clock": le.clock}
            for le in study.lesions
        ],
    }


def generate(seed: int = DEFAULT_SEED, count: int = DEFAULT_COUNT) -> list[dict]:
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        study = sample_study(rng)
        text, no_enhancement, laterality = render(study, rng)
        cases.append({"id": f"gen-{i + 1:03d}", "modality": study.modality, "text": text,
                      "expected": labels(study, no_enhancement, laterality)})
    return cases


def dumps(cases: list[dict]) -> str:
    return "".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.out.write_text(dumps(generate(args.seed, args.count)), encoding="utf-8")
    print(f"{args.count} reports written to {args.out}")


if __name__ == "__main__":
    main()

"""Sentences and blocks about one finding, and the study's title, history and assessment lines."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .phrases import (
    BIRADS_TEXT,
    CALC_NOUNS,
    CANCERS,
    CHANGE_PRE,
    COMPOSITION,
    DIST_ADJ,
    DIST_POST,
    HISTORY_LINES,
    LESION_WORDS,
    MARGIN_WORDS,
    MORPH_WORDS,
    NME_DIST_PHRASES,
    NME_DIST_WORDS,
    SHAPE_WORDS,
    SIDE_WORDS,
    article,
    cap,
    change_phrase,
    clause,
    joined,
    kinetics_phrase,
    location_phrase,
    morph_phrase,
    previous_size_phrase,
    size_phrase,
)
from .structure import Calc, Lesion, Study


@dataclass
class Ctx:
    """What the rendering of one report needs to know and records while it writes."""

    rng: random.Random
    study: Study
    style: str
    side_in_heading: bool = False
    said_no_enhancement: bool = False


def calc_sentence(ctx: Ctx, c: Calc) -> str:
    rng = ctx.rng
    noun = "calcs" if ctx.style == "telegraphic" and rng.random() < 0.6 else rng.choice(CALC_NOUNS)
    morph = morph_phrase(rng, c.morphology, c.distribution)
    side = "" if ctx.side_in_heading and rng.random() < 0.8 else rng.choice(SIDE_WORDS[c.breast])
    where = location_phrase(rng, c.quadrant, c.clock)
    size = size_phrase(rng, c.extent_mm) if c.extent_mm is not None else ""
    prev = previous_size_phrase(rng, c.extent_mm, c.change) if c.extent_mm and c.change and \
        c.change.startswith(("increase", "decrease")) and rng.random() < 0.5 else ""
    change = change_phrase(rng, c.change) if c.change else ""
    template = rng.randrange(6)
    if c.distribution and rng.random() < 0.5 and not (c.distribution == "linear" and "linear" in morph):
        head = f"{rng.choice(DIST_ADJ[c.distribution])} {morph} {noun}"
        dist_after = ""
    elif c.distribution == "grouped" and rng.random() < 0.5:
        head = f"{rng.choice(['a cluster of', 'a group of', 'a small group of'])} {morph} {noun}"
        dist_after = ""
    else:
        head = f"{morph} {noun}"
        dist_after = rng.choice(DIST_POST[c.distribution]) if c.distribution else ""
    if template == 0:
        body = joined(head, side, where, dist_after, size, prev) + (f", {change}" if change else "")
        sentence = cap(body)
    elif template == 1:
        verb = "is" if head.startswith("a ") else "are"
        tail = joined(verb, rng.choice(["present", "seen", "noted", "again seen", "identified"]), side, where)
        sentence = cap(joined(head, tail)) + clause(dist_after, size, prev, change)
    elif template == 2 and c.change in CHANGE_PRE:
        sentence = cap(joined(rng.choice(CHANGE_PRE[c.change]), head.removeprefix("a "), side, where,
                              dist_after, size, prev))
    elif template == 3 and side:
        lead = rng.choice(["In the {b} breast", "Within the {b} breast", "{B} breast"]).format(
            b=c.breast, B=c.breast.capitalize())
        verb = "there is" if head.startswith("a ") else "there are"
        sentence = f"{lead}, {verb} {joined(head, where, dist_after, size, prev)}" + (
            f", {change}" if change else "")
    elif template == 4:
        verb = "is" if head.startswith("a ") else "are"
        sentence = cap(f"There {verb} {joined(head, side, where)}") + clause(dist_after, size, prev, change)
    else:
        opener = rng.choice(["Mammography demonstrates", "Magnification views show", "There are",
                             "Tomosynthesis shows"])
        sentence = f"{opener} {joined(head, side, where)}" + clause(dist_after, size, prev, change)
    sentence = sentence.rstrip(".,; ")
    if c.group:
        return f"Group {c.group}: {sentence}." if rng.random() < 0.5 else f"{sentence} (group {c.group})."
    return sentence + "."


def two_groups_sentence(ctx: Ctx, a: Calc, b: Calc) -> str:
    """Two groups of one breast in one sentence, each with its own noun phrase."""
    rng = ctx.rng

    def one(c: Calc) -> str:
        morph = morph_phrase(rng, c.morphology, c.distribution)
        where = location_phrase(rng, c.quadrant, c.clock)
        change = f", {change_phrase(rng, c.change)}" if c.change else ""
        if c.distribution == "grouped":  # "a 5 mm cluster of amorphous calcifications"
            size = size_phrase(rng, c.extent_mm, verb=False) if c.extent_mm is not None else ""
            phrase = joined(size, rng.choice(["cluster of", "group of"]), morph, "calcifications")
            return joined(article(phrase), phrase, where) + change
        post = rng.choice(DIST_POST[c.distribution]) if c.distribution else ""
        size = size_phrase(rng, c.extent_mm) if c.extent_mm is not None else ""
        return joined(morph, "calcifications", where) + clause(post, size) + change

    side = f"in the {a.breast} breast" if not ctx.side_in_heading else ""
    joiner = rng.choice([" and ", "; and ", ", and "])
    return cap(joined("There are two groups of calcifications", side)) + f": {one(a)}{joiner}{one(b)}."


def bilateral_benign_sentence(rng: random.Random, morph: str) -> str:
    words = rng.choice(MORPH_WORDS[morph])
    return rng.choice([
        "Scattered benign {w} calcifications are present in both breasts.",
        "Bilateral scattered {w} calcifications.",
        "Benign {w} calcifications are scattered bilaterally.",
    ]).format(w=words)


def structured_calc_block(ctx: Ctx, c: Calc) -> str:
    rng = ctx.rng
    head = rng.choice(["Calcifications, {b} breast", "Calcification group ({b} breast)",
                       "{B} breast calcifications"]).format(b=c.breast, B=c.breast.capitalize())
    lines = [head + (f" (group {c.group})" if c.group else "") + ":"]
    if c.morphology:
        lines.append(f"  Morphology: {rng.choice(MORPH_WORDS[c.morphology])}")
    if c.distribution:
        lines.append(f"  Distribution: {c.distribution}")
    if c.extent_mm is not None:
        lines.append(f"  {rng.choice(['Extent', 'Size', 'Extent (largest dimension)'])}: "
                     f"{size_phrase(rng, c.extent_mm, verb=False)}")
    return "\n".join(lines + _location_and_change_lines(rng, c.quadrant, c.clock, c.change))


def _location_and_change_lines(rng: random.Random, quadrant: str | None, clock: int | None,
                               change: str | None) -> list[str]:
    lines = []
    where = location_phrase(rng, quadrant, clock)
    if where:
        lines.append(f"  Location: {where.removeprefix('in the ').removeprefix('at ')}")
    if change:
        lines.append(f"  Change: {change_phrase(rng, change, field_value=True)}")
    return lines


def lesion_sentence(ctx: Ctx, le: Lesion) -> str:
    rng = ctx.rng
    side = "" if ctx.side_in_heading and rng.random() < 0.8 else rng.choice(SIDE_WORDS[le.breast])
    where = location_phrase(rng, le.quadrant, le.clock)
    kind = rng.choice(LESION_WORDS[le.lesion_type])
    if le.change == "no_longer_seen":
        opener = rng.choice(["The previously seen", "The previously described", "The known"])
        verb = rng.choice(["is no longer seen", "is no longer visualised", "has resolved",
                           "is no longer identified"])
        return f"{opener} {joined(kind, side, where)} {verb}."
    shape = rng.choice(SHAPE_WORDS[le.mass_shape]) if le.mass_shape else ""
    margin = rng.choice(MARGIN_WORDS[le.mass_margin]) if le.mass_margin else ""
    margin_pre = margin if margin and not margin.startswith("with") else ""
    margin_post = margin if margin.startswith("with") else ""
    dist = ""
    if le.nme_distribution:
        dist = rng.choice(NME_DIST_PHRASES[le.nme_distribution])
    size_pre = ""
    size_post = ""
    if le.size_mm is not None:
        if rng.random() < 0.45:
            size_pre = size_phrase(rng, le.size_mm, verb=False)
        else:
            size_post = size_phrase(rng, le.size_mm)
    prev = previous_size_phrase(rng, le.size_mm, le.change) if le.size_mm and le.change in (
        "increase_size", "decrease_size") and rng.random() < 0.5 else ""
    kinetics = kinetics_phrase(rng, le.kinetics_initial, le.kinetics_delayed)
    change = change_phrase(rng, le.change) if le.change else ""
    if le.mass_margin == "irregular" and le.mass_shape == "irregular":
        shape = "irregularly shaped"
    noun = joined(size_pre, shape, margin_pre, kind)
    art = article(noun).capitalize()
    if le.change == "new" and rng.random() < 0.5:
        art, change = "A new", ""
    template = rng.randrange(3)
    if template == 0:
        body = f"{art} {noun} {joined(margin_post, dist)}".rstrip()
        sentence = joined(body, "is seen" if rng.random() < 0.5 else "", side, where) + clause(
            size_post, prev, kinetics, change)
    elif template == 1:
        sentence = f"There is {art.lower()} {joined(noun, margin_post, dist, side, where)}" + clause(
            size_post, prev, kinetics, change)
    else:
        lead = cap(where) if where else "Residual enhancement:"
        sentence = f"{lead}, {art.lower()} {joined(noun, margin_post, dist)}" + clause(
            side, size_post, prev, kinetics, change)
        sentence = sentence.replace(":,", ":")
    return sentence.replace("  ", " ").rstrip(".,; ") + "."


def structured_lesion_block(ctx: Ctx, le: Lesion, number: int) -> str:
    rng = ctx.rng
    lines = [f"Lesion {number} ({le.breast} breast):",
             f"  Type: {rng.choice(LESION_WORDS[le.lesion_type])}"]
    if le.size_mm is not None:
        lines.append(f"  Size: {size_phrase(rng, le.size_mm, verb=False)}")
    if le.mass_shape:
        lines.append(f"  Shape: {le.mass_shape}")
    if le.mass_margin:
        lines.append(f"  Margin: {le.mass_margin}")
    if le.nme_distribution:
        lines.append(f"  Distribution: {NME_DIST_WORDS[le.nme_distribution]}")
    if le.kinetics_initial or le.kinetics_delayed:
        parts = ([f"initial {le.kinetics_initial}"] if le.kinetics_initial else []) + (
            [f"delayed {le.kinetics_delayed}"] if le.kinetics_delayed else [])
        lines.append(f"  Kinetics: {', '.join(parts)}")
    return "\n".join(lines + _location_and_change_lines(rng, le.quadrant, le.clock, le.change))


def study_title(ctx: Ctx) -> str:
    rng, s = ctx.rng, ctx.study
    if s.modality == "MG":
        kind = rng.choice(["DIAGNOSTIC MAMMOGRAM", "SCREENING MAMMOGRAM", "MAMMOGRAM", "DIGITAL MAMMOGRAPHY",
                           "MAMMOGRAM WITH TOMOSYNTHESIS"])
    else:
        kind = rng.choice(["BREAST MRI", "MRI BREASTS WITH AND WITHOUT CONTRAST", "MRI OF THE BREASTS",
                           "CONTRAST-ENHANCED BREAST MRI"])
    side = s.laterality.upper()
    title = rng.choice([f"{side} {kind}", f"{kind}, {side}", f"{kind} ({side})"])
    if s.modality == "MG" and s.surgery == "mastectomy" and rng.random() < 0.5:
        title += f" (status post {s.treated} mastectomy)"
    if rng.random() < 0.5:
        title = title.title() if rng.random() < 0.5 else title.capitalize()
        title = re.sub(r"\bmri\b", "MRI", title, flags=re.IGNORECASE)
    return rng.choice(["", "EXAM: ", "Examination: ", "Procedure: "]) + title


def history_line(ctx: Ctx) -> str:
    rng, s = ctx.rng, ctx.study
    surgery = {"none": "", "bcs": " and lumpectomy", "mastectomy": " and mastectomy"}[s.surgery]
    return rng.choice(HISTORY_LINES).format(age=rng.randint(32, 78), t=s.treated,
                                            t_cap=s.treated.capitalize(), cancer=rng.choice(CANCERS),
                                            surgery=surgery)


def composition_line(ctx: Ctx) -> str:
    s = ctx.study
    line = ctx.rng.choice(COMPOSITION[s.composition])
    if s.laterality != "bilateral":
        line = line.replace("The breasts are", f"The {s.laterality} breast is")
    return line


def birads_line(ctx: Ctx) -> str:
    rng, value = ctx.rng, ctx.study.birads
    if value is None:
        return rng.choice(["", "Opinion: M2.", "Assessment to follow after multidisciplinary review."])
    words = BIRADS_TEXT[value]
    pattern = rng.choice([
        "BI-RADS {v}: {w}.", "BI-RADS {v}.", "BIRADS: {v}", "BI-RADS Category {v} - {w}.", "Category {v}.",
        "ACR {v}", "Assessment: {v} - {w}.", "Final assessment: BI-RADS {v} ({w}).", "BI-RADS® {v}",
        "Bi-Rads {v}", "BI RADS {v} - {w}", "Overall BI-RADS: {v}",
    ])
    if value.endswith(("A", "B", "C")) and "ACR" in pattern:
        pattern = "BI-RADS {v}."  # "ACR 4B" is not a phrasing anyone uses
    return pattern.format(v=value, w=words)

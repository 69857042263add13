"""The lexicon: report phrases and the vocabulary values they mean (BI-RADS 5th edition).

Each table maps a phrase (matched word by word, case-insensitive, hyphens and commas
between words ignored) to one value of `imaging.vocabulary` or `patients.vocabulary`.
Decisions a reader might question:

- "punctate" is round: the atlas defines punctate as round calcifications under 0.5 mm.
- "pleomorphic" alone is fine pleomorphic; "casting-type", "linear branching" and "fine
  linear" are fine linear branching; "coarse" alone is "coarse or popcorn-like", but
  "coarse heterogeneous" is its own (suspicious) morphology.
- "lucent-centred" and "eggshell" are rim (merged into rim in the 5th edition); "secretory"
  is large rod-like; "dermal" is skin; "arterial" is vascular.
- "scattered" is the diffuse distribution (its 4th-edition name); "clustered", "a cluster
  of" and "a group of" are grouped; a bare "linear" is a distribution, never a morphology.
- "lobulated" is an oval mass (merged in the 5th edition); "ill-defined", "indistinct" and
  "not circumscribed" margins are irregular; "ductal" NME is linear.
- "type 1/2/3" curves are persistent / plateau / washout; "progressive" is persistent.
"""

from __future__ import annotations

from imaging import vocabulary as v
from patients.vocabulary import Breast

# Mention kinds.
MORPH, DIST, CALC, CHANGE, QUADRANT, SIDE = "morph", "dist", "calc", "change", "quadrant", "side"
LESION, SHAPE, MARGIN, NME_DIST, NME_PATTERN = "lesion", "shape", "margin", "nme_dist", "nme_pattern"
KIN_INITIAL, KIN_DELAYED, CURVE = "kin_initial", "kin_delayed", "curve"
ENH, BPE, BPE_LEVEL = "enh", "bpe", "bpe_level"
OTHER, UMBRELLA = "other", "umbrella"
NEG_PRE, NEG_POST, TERM, PSEUDO = "neg_pre", "neg_post", "term", "pseudo"

BOTH = "both"  # a side mention meaning both breasts
LEFT, RIGHT = Breast.LEFT.value, Breast.RIGHT.value

# Strength of a distribution mention: an explicit "segmental distribution" beats an adjective,
# which beats the noun of "a group of".
EXPLICIT, ADJECTIVE, NOUN = 3, 2, 1

M = v.Morphology
# Morphologies that name calcifications by themselves ("layering milk of calcium", "amorphous"),
# so a unit needs no "calcifications" noun to describe a group with them.
CALCIFICATION_ONLY = frozenset({"milk_of_calcium", "amorphous", "fine_pleomorphic", "fine_linear_branching",
                                "coarse_heterogeneous", "dystrophic"})
MORPHOLOGY: dict[str, str] = {
    "skin": M.SKIN, "dermal": M.SKIN,
    "vascular": M.VASCULAR, "arterial": M.VASCULAR, "vessel": M.VASCULAR,
    "coarse": M.COARSE_POPCORN, "popcorn": M.COARSE_POPCORN, "popcorn like": M.COARSE_POPCORN,
    "coarse popcorn": M.COARSE_POPCORN, "coarse popcorn like": M.COARSE_POPCORN,
    "coarse or popcorn like": M.COARSE_POPCORN,
    "rod like": M.LARGE_ROD_LIKE, "large rod like": M.LARGE_ROD_LIKE, "secretory": M.LARGE_ROD_LIKE,
    "secretory rod like": M.LARGE_ROD_LIKE,
    "round": M.ROUND, "punctate": M.ROUND, "round and punctate": M.ROUND,
    "rim": M.RIM, "eggshell": M.RIM, "egg shell": M.RIM, "rim type": M.RIM, "lucent centered": M.RIM,
    "lucent centred": M.RIM,
    "dystrophic": M.DYSTROPHIC,
    "milk of calcium": M.MILK_OF_CALCIUM, "teacup": M.MILK_OF_CALCIUM, "tea cup": M.MILK_OF_CALCIUM,
    "suture": M.SUTURE, "sutural": M.SUTURE,
    "coarse heterogeneous": M.COARSE_HETEROGENEOUS,
    "amorphous": M.AMORPHOUS,
    "fine pleomorphic": M.FINE_PLEOMORPHIC, "pleomorphic": M.FINE_PLEOMORPHIC,
    "fine linear branching": M.FINE_LINEAR_BRANCHING, "fine linear": M.FINE_LINEAR_BRANCHING,
    "linear branching": M.FINE_LINEAR_BRANCHING, "branching": M.FINE_LINEAR_BRANCHING,
    "casting": M.FINE_LINEAR_BRANCHING, "casting type": M.FINE_LINEAR_BRANCHING,
    "fine linear or fine linear branching": M.FINE_LINEAR_BRANCHING,
}

D = v.Distribution
DISTRIBUTION_WORDS: dict[str, str] = {
    "diffuse": D.DIFFUSE, "diffusely": D.DIFFUSE, "scattered": D.DIFFUSE, "regional": D.REGIONAL,
    "grouped": D.GROUPED, "clustered": D.GROUPED, "linear": D.LINEAR, "segmental": D.SEGMENTAL,
    "segmentally": D.SEGMENTAL,
}
DISTRIBUTION: dict[str, tuple[str, int]] = (
    {word: (value, ADJECTIVE) for word, value in DISTRIBUTION_WORDS.items()}
    | {f"{word} distribution": (value, EXPLICIT) for word, value in DISTRIBUTION_WORDS.items()}
    | {f"distribution {word}": (value, EXPLICIT) for word, value in DISTRIBUTION_WORDS.items()}
    | {f"{word} pattern": (value, EXPLICIT) for word, value in DISTRIBUTION_WORDS.items()}
    | {"diffusely distributed": (D.DIFFUSE, EXPLICIT), "distributed diffusely": (D.DIFFUSE, EXPLICIT),
       "scattered throughout": (D.DIFFUSE, EXPLICIT), "diffusely scattered": (D.DIFFUSE, EXPLICIT),
       "segmentally distributed": (D.SEGMENTAL, EXPLICIT), "in a cluster": (D.GROUPED, ADJECTIVE),
       "cluster": (D.GROUPED, NOUN), "group": (D.GROUPED, NOUN)}
)

CALC_NOUNS = ("calcification", "calcifications", "microcalcification", "microcalcifications", "calcs",
              "calc", "calcified", "calcific", "microcalcs", "macrocalcifications")

C = v.ObservedChange
_CHANGE_GROUPS: dict[str, tuple[str, ...]] = {
    C.NEW: ("new", "newly", "newly seen", "newly developed", "new since", "not previously seen",
            "not seen previously", "not previously identified", "not present previously",
            "not present on the prior", "developing"),
    C.STABLE: ("stable", "unchanged", "no change", "no changes", "no interval change", "without change",
               "without interval change", "not changed", "remain stable", "remains stable",
               "stable in appearance", "essentially unchanged"),
    C.NOT_SIGNIFICANTLY_CHANGED: (
        "not significantly changed", "no significant change", "without significant change",
        "no significant interval change", "without significant interval change",
        "not substantially changed", "no substantial change", "not changed significantly",
        "not significantly different"),
    C.INCREASE_SIZE: (
        "increased in size", "increase in size", "increased in extent", "increase in extent",
        "increasing in extent", "increasing in size", "increased extent", "increased size", "larger",
        "enlarged", "enlarging", "grown", "more extensive", "larger in extent",
        "increase in the extent", "increase in the size", "increased in size and extent"),
    C.INCREASE_NUMBER: ("increased in number", "increase in number", "increasing in number", "more numerous",
                        "increased number", "increase in the number", "greater in number"),
    C.INCREASE_CALCIFICATIONS: ("increased", "increasing", "increase", "increase in"),
    C.DECREASE_SIZE: (
        "decreased in size", "decrease in size", "decreased in extent", "decrease in extent",
        "decreasing in size", "decreasing in extent", "decreased extent", "smaller", "smaller in extent",
        "reduced in size", "reduced in extent", "reduction in size", "reduction in extent",
        "decrease in the extent", "decrease in the size", "less extensive", "shrunk", "regressed",
        "largely resolved", "nearly resolved", "almost resolved", "partially resolved", "partly resolved"),
    C.DECREASE_NUMBER: ("decreased in number", "decrease in number", "fewer", "fewer in number",
                        "less numerous", "reduced in number", "decrease in the number"),
    C.DECREASE_CALCIFICATIONS: ("decreased", "decreasing", "decrease", "decrease in", "reduced",
                                "reduction", "diminished"),
    C.NO_LONGER_SEEN: ("no longer", "no longer seen", "no longer visible", "no longer visualized",
                       "no longer visualised", "no longer identified", "no longer demonstrated",
                       "no longer evident", "no longer apparent", "no longer discernible",
                       "no longer present", "resolved", "completely resolved", "resolution",
                       "complete resolution", "disappeared"),
    C.PARTIALLY_REMOVED: ("partially removed", "partially excised", "partial removal", "partial excision",
                          "partly removed", "partly excised"),
}
CHANGES: dict[str, str] = {phrase: value for value, phrases in _CHANGE_GROUPS.items() for phrase in phrases}
# Calcification-only codes read as the nearest lesion code on MRI ("decreased" = smaller).
LESION_CHANGE = {C.INCREASE_CALCIFICATIONS.value: C.INCREASE_SIZE.value,
                 C.INCREASE_NUMBER.value: C.INCREASE_SIZE.value,
                 C.DECREASE_CALCIFICATIONS.value: C.DECREASE_SIZE.value,
                 C.DECREASE_NUMBER.value: C.DECREASE_SIZE.value}

Q = v.Quadrant
QUADRANTS: dict[str, str] = {
    "upper outer quadrant": Q.UOQ, "upper outer": Q.UOQ, "uoq": Q.UOQ, "outer upper quadrant": Q.UOQ,
    "upper inner quadrant": Q.UIQ, "upper inner": Q.UIQ, "uiq": Q.UIQ, "inner upper quadrant": Q.UIQ,
    "lower outer quadrant": Q.LOQ, "lower outer": Q.LOQ, "loq": Q.LOQ, "outer lower quadrant": Q.LOQ,
    "lower inner quadrant": Q.LIQ, "lower inner": Q.LIQ, "liq": Q.LIQ, "inner lower quadrant": Q.LIQ,
    "central": Q.CENTRAL, "retroareolar": Q.CENTRAL, "retro areolar": Q.CENTRAL, "subareolar": Q.CENTRAL,
    "sub areolar": Q.CENTRAL, "periareolar": Q.CENTRAL,
    "axillary tail": Q.AXILLARY_TAIL, "tail of spence": Q.AXILLARY_TAIL,
}
# "LUOQ": one word naming the breast and the quadrant.
SIDE_QUADRANTS = {f"{side[0]}{code.lower()}": (side, code) for side in (LEFT, RIGHT)
                  for code in (Q.UOQ, Q.UIQ, Q.LOQ, Q.LIQ)}

SIDES: dict[str, str] = {
    "left": LEFT, "left sided": LEFT, "l breast": LEFT, "lt breast": LEFT, "l side": LEFT,
    "right": RIGHT, "right sided": RIGHT, "r breast": RIGHT, "rt breast": RIGHT, "r side": RIGHT,
    "bilateral": BOTH, "bilaterally": BOTH, "bilat": BOTH, "both breasts": BOTH, "both sides": BOTH,
    "either breast": BOTH, "each breast": BOTH, "both": BOTH,
}

NEGATION_PRE = ("no", "not", "without", "negative for", "no evidence of", "no evidence for", "absence of",
                "free of", "neither", "nor", "none of", "never", "no sign of", "no signs of")
NEGATION_POST = ("not seen", "not identified", "not visualized", "not visualised", "not demonstrated",
                 "not present", "not appreciated", "not evident", "not detected", "not visible",
                 "absent", "none", "negative", "neg", "unremarkable")
TERMINATORS = ("but", "however", "although", "though", "except", "apart from", "aside from", "other than",
               "whereas", "while", "which", "with the exception of", "nevertheless", "there is", "there are",
               "there has", "there have")
# Phrases holding a negation word that negate nothing here ("no longer seen" is a change code).
PSEUDO_NEGATIONS = ("not only", "no increase", "no decrease", "without increase", "no significant increase",
                    "no further", "not clearly", "left in place", "left in situ", "no other change")

# Words before a size that make it an earlier study's ("previously 15 mm", "from 2 cm").
PREVIOUS_WORDS = frozenset({"previously", "previous", "prior", "baseline", "formerly", "initially",
                            "originally", "was", "were", "from", "pretreatment"})

MG_OTHER = ("mass", "masses", "asymmetry", "asymmetries", "distortion", "node", "nodes", "lymph", "cyst",
            "cysts", "seroma", "scar", "scarring", "clip", "clips", "marker", "thickening", "implant",
            "changes", "artifact", "artefact", "fibroadenoma", "hematoma", "haematoma", "lesion", "lesions",
            "skin thickening", "skin retraction", "skin lesion", "nipple", "tissue")
MR_OTHER = ("cyst", "cysts", "node", "nodes", "lymph", "seroma", "scar", "clip", "clips", "marker", "implant",
            "changes", "artifact", "artefact", "susceptibility", "thickening", "skin thickening", "hematoma",
            "haematoma", "mass effect", "fibroadenoma", "rim enhancement", "rim enhancing",
            "rim of enhancement", "tissue")

LT = v.LesionType
LESIONS: dict[str, str | None] = {
    "mass": LT.MASS, "masses": LT.MASS, "enhancing mass": LT.MASS, "mass lesion": LT.MASS,
    "mass enhancement": LT.MASS,
    "focus": LT.FOCUS, "focus of enhancement": LT.FOCUS, "enhancing focus": LT.FOCUS,
    "non mass enhancement": LT.NME, "non mass like enhancement": LT.NME, "nonmass enhancement": LT.NME,
    "nonmass like enhancement": LT.NME, "non mass": LT.NME, "nonmass": LT.NME, "nme": LT.NME,
    "area of enhancement": LT.NME, "areas of enhancement": LT.NME, "area of non mass enhancement": LT.NME,
    "non mass enhancing": LT.NME, "enhancing lesion": None, "enhancing lesions": None,
}
ND = v.NmeDistribution
NME_DISTRIBUTIONS: dict[str, str] = {
    "focal": ND.FOCAL, "linear": ND.LINEAR, "ductal": ND.LINEAR, "segmental": ND.SEGMENTAL,
    "regional": ND.REGIONAL, "multiple regions": ND.MULTIPLE_REGIONS, "multiregional": ND.MULTIPLE_REGIONS,
    "multiple regional": ND.MULTIPLE_REGIONS, "diffuse": ND.DIFFUSE,
}
# "segmental enhancement": a non-mass lesion named by its distribution alone.
NME_BY_DISTRIBUTION = ("linear", "segmental", "regional", "ductal", "focal")
NP = v.NmePattern
NME_PATTERNS: dict[str, str] = {"homogeneous": NP.HOMOGENEOUS, "heterogeneous": NP.HETEROGENEOUS,
                                "clumped": NP.CLUMPED, "clustered ring": NP.CLUSTERED_RING}
MS = v.MassShape
SHAPES: dict[str, str] = {"oval": MS.OVAL, "lobulated": MS.OVAL, "round": MS.ROUND, "irregular": MS.IRREGULAR,
                          "irregularly shaped": MS.IRREGULAR, "irregular shape": MS.IRREGULAR,
                          "irregular in shape": MS.IRREGULAR}
MM = v.MassMargin
MARGINS: dict[str, str] = {
    "circumscribed": MM.CIRCUMSCRIBED, "well circumscribed": MM.CIRCUMSCRIBED,
    "well defined": MM.CIRCUMSCRIBED, "smooth margins": MM.CIRCUMSCRIBED, "spiculated": MM.SPICULATED,
    "spiculation": MM.SPICULATED, "irregular margin": MM.IRREGULAR, "irregular margins": MM.IRREGULAR,
    "irregularly marginated": MM.IRREGULAR, "margin irregular": MM.IRREGULAR,
    "margins irregular": MM.IRREGULAR, "ill defined": MM.IRREGULAR, "indistinct margins": MM.IRREGULAR,
    "not circumscribed": MM.IRREGULAR,
}
KI, KD = v.KineticsInitial, v.KineticsDelayed
KINETICS_INITIAL: dict[str, str] = {"slow": KI.SLOW, "gradual": KI.SLOW, "medium": KI.MEDIUM,
                                    "intermediate": KI.MEDIUM, "fast": KI.FAST, "rapid": KI.FAST}
KINETICS_DELAYED: dict[str, str] = {"persistent": KD.PERSISTENT, "progressive": KD.PERSISTENT,
                                    "plateau": KD.PLATEAU, "washout": KD.WASHOUT, "wash out": KD.WASHOUT}
CURVES: dict[str, str] = {f"type {n}": value for value, numbers in (
    (KD.PERSISTENT, ("1", "i")), (KD.PLATEAU, ("2", "ii")), (KD.WASHOUT, ("3", "iii"))) for n in numbers}
# Words that make a nearby speed or shape word a kinetic descriptor.
KINETIC_CONTEXT = frozenset({"initial", "early", "uptake", "rise", "wash", "phase", "kinetics", "kinetic",
                             "curve", "delayed", "enhancement", "pattern", "type"})
ENHANCEMENT_WORDS = ("enhancement", "enhancing", "enhance", "enhances", "enhanced")
BACKGROUND = ("background parenchymal enhancement", "background enhancement", "bpe",
              "parenchymal enhancement", "background parenchymal")
BPE_LEVELS: dict[str, str] = {level.value: level.value for level in v.Bpe}

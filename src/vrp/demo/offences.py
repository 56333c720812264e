"""The synthetic force's offence mix and the behaviour that hangs off each Home Office class.

One table drives everything the generator needs to know about an offence: how common it is, which
police.uk category it is published under, where and when it tends to happen, who the victims are,
and how often the knife, firearm and domestic-abuse flags are set. Keeping it in one place makes the
mix easy to read against real force profiles and keeps the ground truth honest (the codes written
are exactly the codes counted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Home Office knife-enabled collection: a blank knife flag inside it means "missing", outside it
# the force writes N/A. Mirrors knife_collection = 1 in vrp/definitions/data/ho_offence_codes.csv.
KNIFE_COLLECTION = frozenset({
    "1", "2", "3B", "4.1", "4.2", "4.10", "5D", "8N", "8P", "8S",
    "17A", "17B", "19C", "19D", "19E", "19F", "19G", "19H", "20A", "20B", "34A", "34B",
})

LOCATION_WORDS = ("Street", "Dwelling", "Licensed Premises", "School", "Public Transport",
                  "Open Space", "Shop", "Other")

# Probability over LOCATION_WORDS, by location profile.
LOCATION_MIX: dict[str, tuple[float, ...]] = {
    "violence": (.35, .35, .10, .04, .04, .06, .04, .02),
    "domestic": (.10, .85, 0, 0, 0, 0, 0, .05),
    "sexual": (.15, .50, .08, .05, .04, .10, .02, .06),
    "child": (0, .80, 0, .15, 0, 0, 0, .05),
    "robbery": (.60, 0, .03, 0, .10, .12, .12, .03),
    "business": (0, 0, .05, .05, 0, 0, .85, .05),
    "weapons": (.60, .05, .08, .04, .08, .10, .05, 0),
    "public_order": (.45, .15, .15, .02, .06, .05, .10, .02),
    "dwelling": (0, 1, 0, 0, 0, 0, 0, 0),
    "premises": (0, 0, .10, .15, 0, 0, .45, .30),
    "shop": (0, 0, 0, 0, 0, 0, 1, 0),
    "vehicle": (.80, .10, 0, 0, 0, .10, 0, 0),
    "theft": (.30, .20, .10, 0, .05, .10, .20, .05),
    "person_theft": (.50, 0, .20, 0, .20, 0, .10, 0),
    "bicycle": (.60, .20, 0, .05, .10, .05, 0, 0),
    "damage": (.35, .40, 0, .05, 0, .05, .10, .05),
    "drugs": (.60, .15, .05, 0, .05, .15, 0, 0),
    "other": (.40, .30, 0, 0, 0, 0, 0, .30),
}

# Relative weight of each hour of the day (0..23) by time profile.
HOUR_WEIGHTS: dict[str, np.ndarray] = {
    "night": np.array([8, 7, 6, 4, 2, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4, 5, 5, 6, 6, 7, 8, 9, 9], float),
    "day": np.array([1, 1, 1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 9, 9, 9, 8, 7, 5, 3, 2, 1, 1], float),
    "any": np.array([3, 2, 2, 1, 1, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 5, 5, 4, 4], float),
}

# Victim profile: (share male, age floor, gamma shape, gamma scale); "child" ages are 0..15.
VICTIM_PROFILES: dict[str, tuple[float, int, float, float]] = {
    "adult": (.55, 16, 2.5, 8.0),
    "young": (.75, 12, 2.0, 6.0),
    "female": (.12, 13, 2.0, 8.0),
    "child": (.45, 0, 0, 0),
    "general": (.50, 16, 3.0, 9.0),
}

OUTCOMES_NO_SUSPECT = (
    ("Investigation complete; no suspect identified", .85),
    ("Status update unavailable", .08),
    ("Under investigation", .07),
)
OUTCOMES_SUSPECT = (
    ("Unable to prosecute suspect", .45),
    ("Court result unavailable", .10),
    ("Local resolution", .08),
    ("Status update unavailable", .08),
    ("Awaiting court outcome", .05),
    ("Action to be taken by another organisation", .05),
    ("Under investigation", .05),
    ("Offender given a caution", .04),
    ("Further investigation is not in the public interest", .04),
    ("Formal action is not in the public interest", .04),
    ("Suspect charged as part of another case", .02),
)


@dataclass(frozen=True)
class Offence:
    """How one Home Office class behaves in the synthetic force."""

    code: str            # canonical Home Office code, e.g. "5D", "4.1"
    share: float         # relative frequency (percent of all recorded crime, roughly)
    label: str           # the force's offence description
    crime_type: str      # police.uk category
    location: str        # key of LOCATION_MIX
    spatial: str         # "centre", "residential" or "general": how strongly it clusters in town centres
    hours: str = "any"   # key of HOUR_WEIGHTS
    victim: str | None = "general"  # key of VICTIM_PROFILES; None = no personal victim
    knife: float = 0.0   # P(knife flag Y) inside the knife collection
    firearm: float = 0.0
    domestic: float = 0.0
    suspect: float = 0.6  # P(at least one suspect)
    span: str = "instant"  # "instant", "hours" or "days" between committed from and to


VSO = "Violence and sexual offences"

OFFENCES: tuple[Offence, ...] = (
    # Violence against the person
    Offence("105A", 14.0, "Common assault and battery", VSO, "violence", "general", "night", "adult",
            domestic=.32, suspect=.75),
    Offence("8N", 9.0, "Assault with injury", VSO, "violence", "general", "night", "adult",
            knife=.03, domestic=.30, suspect=.75),
    Offence("8R", 5.0, "Malicious communications", VSO, "other", "residential", "any", "general",
            domestic=.25, suspect=.70, span="days"),
    Offence("8L", 3.5, "Harassment", VSO, "other", "residential", "any", "general",
            domestic=.35, suspect=.85, span="days"),
    Offence("8Q", 2.5, "Stalking", VSO, "other", "residential", "any", "female",
            domestic=.55, suspect=.95, span="days"),
    Offence("105B", .5, "Racially or religiously aggravated common assault", VSO, "violence", "centre",
            "night", "adult", suspect=.6),
    Offence("8M", .4, "Racially or religiously aggravated harassment", VSO, "public_order", "general",
            "any", "adult", suspect=.6, span="days"),
    Offence("104", .8, "Assault without injury on a constable", VSO, "public_order", "centre", "night",
            "adult", suspect=1.0),
    Offence("3B", .9, "Threats to kill", VSO, "violence", "general", "any", "adult",
            knife=.08, domestic=.30, suspect=.85),
    Offence("5D", 1.0, "Wounding with intent to do grievous bodily harm", VSO, "violence", "centre",
            "night", "young", knife=.20, firearm=.01, domestic=.12, suspect=.70),
    Offence("8P", .3, "Racially or religiously aggravated assault with injury", VSO, "violence",
            "centre", "night", "adult", knife=.03, domestic=.05, suspect=.70),
    Offence("8S", .15, "Assault with injury on a constable", VSO, "public_order", "centre", "night",
            "adult", knife=.02, suspect=1.0),
    Offence("5E", .05, "Endangering life", VSO, "violence", "general", "any", "general", suspect=.8),
    Offence("11A", .4, "Cruelty to or neglect of children", VSO, "child", "residential", "any", "child",
            domestic=.30, suspect=.95, span="days"),
    Offence("36", .1, "Kidnapping", VSO, "violence", "general", "night", "adult",
            domestic=.20, suspect=.85, span="hours"),
    Offence("2", .02, "Attempted murder", VSO, "violence", "centre", "night", "young",
            knife=.35, firearm=.10, domestic=.15, suspect=.85),
    Offence("1", .012, "Murder", VSO, "violence", "general", "night", "young",
            knife=.40, firearm=.05, domestic=.20, suspect=.95),
    Offence("4.1", .008, "Manslaughter", VSO, "violence", "general", "night", "adult",
            knife=.20, domestic=.10, suspect=.95),
    # Sexual offences
    Offence("19C", .6, "Rape of a female aged 16 and over", VSO, "sexual", "general", "night", "female",
            knife=.01, domestic=.35, suspect=.85, span="hours"),
    Offence("19D", .15, "Rape of a female child under 16", VSO, "child", "residential", "any", "child",
            knife=.01, domestic=.15, suspect=.9, span="days"),
    Offence("20A", .7, "Sexual assault on a female aged 13 and over", VSO, "sexual", "centre", "night",
            "female", knife=.005, domestic=.08, suspect=.6),
    Offence("17A", .08, "Sexual assault on a male aged 13 and over", VSO, "sexual", "centre", "night",
            "adult", knife=.005, suspect=.6),
    Offence("22B", .15, "Sexual activity involving a child under 16", VSO, "child", "residential", "any",
            "child", suspect=.95, span="days"),
    Offence("88E", .3, "Exposure and voyeurism", VSO, "sexual", "general", "day", "female", suspect=.4),
    # Robbery
    Offence("34B", 1.5, "Robbery of personal property", "Robbery", "robbery", "centre", "night", "young",
            knife=.15, firearm=.005, domestic=.005, suspect=.45),
    Offence("34A", .2, "Robbery of business property", "Robbery", "business", "centre", "day", "adult",
            knife=.10, firearm=.03, suspect=.45),
    # Possession of weapons
    Offence("10D", .6, "Possession of article with blade or point", "Possession of weapons", "weapons",
            "centre", "night", None, suspect=1.0),
    Offence("10C", .25, "Possession of offensive weapon", "Possession of weapons", "weapons", "centre",
            "night", None, suspect=1.0),
    Offence("90", .05, "Other knives offences", "Possession of weapons", "business", "centre", "day",
            None, suspect=1.0),
    Offence("10A", .03, "Possession of firearm with intent", "Possession of weapons", "weapons",
            "centre", "night", None, firearm=.9, suspect=1.0),
    Offence("81", .05, "Other firearms offences", "Possession of weapons", "other", "general", "any",
            None, firearm=.95, suspect=1.0),
    # Public order
    Offence("9A", 7.5, "Public fear, alarm or distress", "Public order", "public_order", "centre",
            "night", "general", domestic=.12, suspect=.7),
    Offence("9B", 1.0, "Racially or religiously aggravated public fear, alarm or distress",
            "Public order", "public_order", "centre", "night", "general", suspect=.6),
    Offence("62A", .05, "Violent disorder", "Public order", "public_order", "centre", "night", None,
            suspect=.9),
    Offence("66", .12, "Other offences against the State or public order", "Public order",
            "public_order", "centre", "night", None, suspect=.9),
    # Theft and burglary
    Offence("46", 10.0, "Shoplifting", "Shoplifting", "shop", "centre", "day", None, suspect=.70),
    Offence("49", 6.0, "Other theft", "Other theft", "theft", "general", "day", "general", suspect=.25),
    Offence("49A", .8, "Making off without payment", "Other theft", "shop", "general", "day", None,
            suspect=.30),
    Offence("39", .9, "Theft from the person", "Theft from the person", "person_theft", "centre", "night",
            "young", suspect=.15),
    Offence("44", 1.2, "Theft or unauthorised taking of a pedal cycle", "Bicycle theft", "bicycle",
            "general", "day", "general", suspect=.10, span="hours"),
    Offence("45", 3.0, "Theft from vehicle", "Vehicle crime", "vehicle", "residential", "night",
            "general", suspect=.10, span="hours"),
    Offence("48", 1.5, "Theft or unauthorised taking of motor vehicle", "Vehicle crime", "vehicle",
            "residential", "night", "general", suspect=.15, span="hours"),
    Offence("126", .6, "Interfering with a motor vehicle", "Vehicle crime", "vehicle", "residential",
            "night", "general", suspect=.15, span="hours"),
    Offence("28E", 3.0, "Burglary residential", "Burglary", "dwelling", "residential", "any", "general",
            suspect=.20, span="hours"),
    Offence("28F", .5, "Attempted burglary residential", "Burglary", "dwelling", "residential", "any",
            "general", suspect=.15, span="hours"),
    Offence("29A", .03, "Aggravated burglary residential", "Burglary", "dwelling", "residential", "night",
            "general", suspect=.6, span="hours"),
    Offence("30C", 1.2, "Burglary business and community", "Burglary", "premises", "general", "night",
            None, suspect=.15, span="hours"),
    # Criminal damage and arson
    Offence("58D", 3.0, "Other criminal damage", "Criminal damage and arson", "damage", "general", "night",
            "general", suspect=.35, span="hours"),
    Offence("58C", 2.5, "Criminal damage to a vehicle", "Criminal damage and arson", "vehicle",
            "residential", "night", "general", suspect=.25, span="hours"),
    Offence("58A", 2.0, "Criminal damage to a dwelling", "Criminal damage and arson", "dwelling",
            "residential", "night", "general", domestic=.30, suspect=.45, span="hours"),
    Offence("58B", .8, "Criminal damage to a building other than a dwelling",
            "Criminal damage and arson", "premises", "general", "night", None, suspect=.25, span="hours"),
    Offence("56B", .5, "Arson not endangering life", "Criminal damage and arson", "damage", "general",
            "night", "general", suspect=.20, span="hours"),
    Offence("56A", .05, "Arson endangering life", "Criminal damage and arson", "dwelling", "residential",
            "night", "general", domestic=.20, suspect=.5, span="hours"),
    # Drugs
    Offence("92E", 2.5, "Possession of cannabis", "Drugs", "drugs", "centre", "night", None, suspect=1.0),
    Offence("92D", 1.0, "Possession of controlled drugs (excluding cannabis)", "Drugs", "drugs", "centre",
            "night", None, suspect=1.0),
    Offence("92A", .6, "Trafficking in controlled drugs", "Drugs", "drugs", "centre", "any", None,
            suspect=1.0, span="days"),
    # Miscellaneous crimes against society
    Offence("83", .3, "Bail offences", "Other crime", "other", "general", "any", None, suspect=1.0),
    Offence("59", .3, "Threat or possession with intent to commit criminal damage", "Other crime",
            "damage", "general", "any", "general", domestic=.25, suspect=.8),
    Offence("99", .2, "Other notifiable offences", "Other crime", "other", "general", "any", None,
            suspect=.8),
    Offence("802", .15, "Dangerous driving", "Other crime", "vehicle", "general", "night", None,
            suspect=.9),
    Offence("54", .1, "Handling stolen goods", "Other crime", "other", "general", "any", None, suspect=1.0),
    Offence("33", .1, "Going equipped for stealing", "Other crime", "vehicle", "general", "night", None,
            suspect=1.0),
    Offence("79", .05, "Perverting the course of justice", "Other crime", "other", "general", "any", None,
            suspect=1.0, span="days"),
)

CODES = tuple(o.code for o in OFFENCES)
BY_CODE = {o.code: o for o in OFFENCES}

# Force sub-codes written in the "HO Subclass" column: (value, probability, description or None).
SUBCODES: dict[str, tuple[tuple[str, float, str | None], ...]] = {
    "8N": (("S20", .15, "Wounding or inflicting grievous bodily harm without intent (s.20)"),
           ("S47", .85, "Assault occasioning actual bodily harm (s.47)")),
    "8P": (("S20", .15, "Racially or religiously aggravated wounding or GBH without intent (s.20)"),
           ("S47", .85, "Racially or religiously aggravated ABH (s.47)")),
    "66": (("RIOT", .10, "Riot (Public Order Act 1986 s.1)"),
           ("AFFRAY", .90, "Affray (Public Order Act 1986 s.3)")),
    "9A": (("S4", .30, None), ("S4A", .30, None), ("S5", .40, None)),
}

# Canonical tag for the force sub-codes that definitions need (docs/schemas.md).
SUBCODE_TAGS = {"S20": "gbh_s20", "S47": "abh_s47", "RIOT": "riot"}


def shares() -> np.ndarray:
    """Offence probabilities in CODES order, normalised to sum to one."""
    raw = np.array([o.share for o in OFFENCES])
    return raw / raw.sum()


def column(attr: str) -> np.ndarray:
    """One Offence attribute as an array in CODES order, for vectorised look-ups by code index."""
    return np.array([getattr(o, attr) for o in OFFENCES], dtype=object if attr in
                    ("code", "label", "crime_type", "location", "spatial", "hours", "victim", "span")
                    else float)

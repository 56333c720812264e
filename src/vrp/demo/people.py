"""Person-level partner files for the synthetic partnership, and synthetic people for linkage tests.

Behind every suspect URN and victim URN of the force extracts stands a true person with a name, sex,
date of birth and home address in Wessex. Five agencies hold records of these people - the police
(suspects, offenders, victims), youth justice, schools (suspensions and exclusions), probation and
the emergency departments - and no agency shares another's person id: only names, dates of birth,
sex and addresses link them. Each agency's staff type what they are told, so the records carry
the errors real linkage has to survive (ERROR_RATES, SURNAME_CHANGE_SHARE, MOVE_SHARE below).
A share of suspects are also victims under a different victim URN, so victim-offender overlap can
only be found by linking identities.

Every file also has a few deliberately faulty rows that an ingest must quarantine; the ground truth
(`people_truth.csv` and the "people" section of ground_truth.json) says which true person each
record belongs to, which rows are faulty, and the default cohorts as perfect linkage gives them.

`synthetic_people` builds one dedupe table of any size with the same error model, for
benchmarking linkage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from vrp.demo import truth
from vrp.demo.crimes import SPECIAL_POINTS, STREETS_PER_LSOA, Streets, SuspectPool, _STREET_KINDS, _STREET_STEMS
from vrp.demo.geography import DISTRICTS, Geography
from vrp.demo.table import Table, format_dates, take, write_csv

Rng = Callable[..., np.random.Generator]  # (label, ...) -> an independent generator

POLICE_NAME = "people_police.csv"
YOUTH_JUSTICE_NAME = "people_youth_justice.csv"
EDUCATION_NAME = "people_education.csv"
PROBATION_NAME = "people_probation.csv"
ED_NAME = "people_ed.csv"
EDUCATION_MAPPING_NAME = "people_education_mapping.toml"
TRUTH_NAME = "people_truth.csv"
TRUTH_HEADER = ("dataset", "record_id", "person", "loads")

IDENTITY = ("first_name", "surname", "dob", "sex", "postcode", "address")
COMMON = ("record_id", "person_ref", *IDENTITY, "event_date")
HEADERS = {
    "people_police": (*COMMON, "crime_ref", "role"),
    "people_youth_justice": (*COMMON, "event_type", "offence_code", "knife_related"),
    "people_education": (*COMMON, "event_type", "reason", "school"),
    "people_probation": (*COMMON, "event_type", "offence_code", "end_date", "rosh"),
    "people_ed": (*COMMON, "assault_method", "site_code"),
}
FILE_NAMES = {"people_police": POLICE_NAME, "people_youth_justice": YOUTH_JUSTICE_NAME,
              "people_education": EDUCATION_NAME, "people_probation": PROBATION_NAME, "people_ed": ED_NAME}

# The school census extract's own headers (read through people_education_mapping.toml).
EDUCATION_HEADERS = {"record_id": "Exclusion ID", "person_ref": "UPN", "first_name": "Forename",
                     "surname": "Surname", "dob": "DOB", "sex": "Sex", "postcode": "Postcode", "address": "Address",
                     "event_date": "Exclusion Start", "event_type": "Category", "reason": "Reason",
                     "school": "School URN"}
EDUCATION_MAPPING_TOML = '''\
# Column mapping for Wessex County Council's suspensions and exclusions extract
# (people_education.csv), written by `vrp demo-data`. Standalone mapping for dataset people_education.
dataset = "people_education"
source = "Wessex County Council Education"
date_format = "%d/%m/%Y"

[columns]  # canonical name = the council's header
''' + "".join(f'{k} = "{v}"\n' for k, v in EDUCATION_HEADERS.items())


# ---- The error model ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ErrorRates:
    """Chance, per record, of each slip an agency makes when it types a person's details.

    Errors are drawn independently, so a record can carry several. With the default rates about
    82% of records have first name, surname and date of birth exactly right (nicknames apply only
    to names that have one, day/month transposition only to days 1-12 that differ from the month,
    a changed surname - SURNAME_CHANGE_SHARE - also makes a record differ)."""

    nickname: float = .08           # first name written as a nickname (Bob for Robert)
    first_typo: float = .04         # 1-2 character edits in the first name (20% get two)
    surname_typo: float = .04
    swapped: float = .01            # first name and surname swapped
    dob_transposed: float = .03     # day and month swapped (when the day is 1-12 and not the month)
    dob_year: float = .015          # year of birth one out
    dob_missing: float = .02
    first_missing: float = .005
    surname_missing: float = .003
    sex_unknown: float = .01        # sex written U
    postcode_missing: float = .06
    postcode_no_space: float = .05  # "WX47AB"
    address_missing: float = .08


ERROR_RATES = ErrorRates()
# Agencies differ: ED reception types in a hurry; a school's records are checked every census.
AGENCY_RATES = {
    "people_police": ERROR_RATES,
    "people_youth_justice": ERROR_RATES,
    "people_probation": ERROR_RATES,
    "people_ed": replace(ERROR_RATES, first_typo=.05, surname_typo=.05, dob_missing=.04, postcode_missing=.1,
                         address_missing=.15),
    "people_education": replace(ERROR_RATES, nickname=.06, dob_missing=.005, dob_year=.01),
}
ERROR_KINDS = ("nickname", "first_typo", "surname_typo", "swapped", "dob_transposed", "dob_year", "dob_missing",
               "first_missing", "surname_missing", "sex_unknown", "postcode_missing", "postcode_no_space",
               "address_missing")

# Person-level changes (true changes, not slips): records after the date carry the new value.
MOVE_SHARE = .12             # people who move house once during the years generated
MOVE_SAME_DISTRICT = .7
SURNAME_CHANGE_SHARE = .06   # women aged 20+ who change surname (marriage) during the years
OVERLAP_SHARE = .12          # suspects who are also victims under a different victim URN

# Agency events.
OFFENDER_SHARE = .3          # suspects recorded as "offender" (charged or convicted)
OFFENDER_ALSO_SUSPECT = .15  # offenders recorded twice on the crime: once as suspect, once as offender
ROLE_LETTER_SHARE = .03      # roles written S / O / V
YJ_P, YJ_P_SERIOUS = .35, .55            # chance an under-18 suspect's crime leads to a youth justice event
PROBATION_P, PROBATION_P_SERIOUS = .08, .25  # chance an adult suspect's crime leads to a probation order
EXCLUDED_SUSPECT_P, EXCLUDED_VICTIM_P = .4, .06  # school-age people with at least one exclusion
KNIFE_CODES = ("10D", "90")  # possession of a blade or point, other knives offences
SERIOUS_CODES = ("1", "2", "4.1", "5D", "8N", "8P", "8S", "34A", "34B", "10A", "10C", "10D", "62A", "90")
YJ_EVENTS = (("youth caution", .3), ("youth conditional caution", .15), ("referral order", .3),
             ("youth rehabilitation order", .2), ("detention and training order", .05))
PROBATION_EVENTS = (("community order", .45), ("suspended sentence order", .25), ("licence", .2),
                    ("post sentence supervision", .1))
ROSH = ("low", "medium", "high", "very high")
ROSH_P, ROSH_P_SERIOUS = (.45, .38, .15, .02), (.15, .45, .33, .07)
EXCLUSION_REASONS = (("PP", .34), ("PA", .16), ("VA", .1), ("VP", .08), ("DA", .05), ("DM", .04), ("BU", .03),
                     ("TH", .02), ("RA", .01), ("SM", .01), ("MT", .02), ("PD", .03), ("OW", .04), ("OT", .07))
OW_P_KNIFE = .45             # exclusions for an offensive weapon among people with a knife crime
PERMANENT_P, PERMANENT_P_OW = .05, .25

# Faulty rows: (fault, canonical field); 2-4 per file, each a different fault; the police file has
# every kind.
FAULTS = (("blank_record_id", "record_id"), ("dob_not_a_date", "dob"), ("dob_after_event", "dob"),
          ("event_date_not_a_date", "event_date"))
POLICE_FAULTS = (*FAULTS, ("unknown_role", "role"))


# ---- Names and places --------------------------------------------------------------------------

def _weighted(text: str) -> tuple[np.ndarray, np.ndarray]:
    """"Name:weight Name:weight ..." -> (names, probabilities)."""
    pairs = [item.rsplit(":", 1) for item in text.split()]
    weights = np.array([float(w) for _, w in pairs])
    return np.array([n for n, _ in pairs], dtype=object), weights / weights.sum()


MALE_NAMES = _weighted("""
James:30 John:22 David:24 Daniel:22 Michael:22 Thomas:22 Christopher:20 Matthew:20 Robert:18 William:18
Joshua:16 Jack:20 Oliver:16 Harry:16 Samuel:15 Joseph:15 Ryan:14 Liam:13 Connor:12 Jake:10 Callum:10
Kieran:9 Lewis:10 Luke:12 Adam:12 Benjamin:12 Alexander:10 Andrew:14 Mark:14 Paul:14 Richard:12 Stephen:11
Anthony:10 Nathan:10 Jordan:10 Tyler:8 Charlie:12 George:12 Alfie:8 Jacob:10 Ethan:10 Mohammed:9 Edward:8
Peter:9 Steven:7 Craig:6 Dean:6 Lee:7 Jamie:8 Aaron:7 Reece:6 Kyle:6 Brandon:5 Bradley:6 Harvey:5 Mason:6
Leo:5 Noah:6 Kai:5 Jonathan:6 Nicholas:6 Henry:6 Gary:5 Shaun:5 Simon:6 Ian:6 Kevin:5 Martin:6
""")
FEMALE_NAMES = _weighted("""
Sarah:20 Emma:20 Laura:16 Rebecca:14 Jessica:15 Charlotte:16 Sophie:16 Emily:16 Hannah:14 Lauren:14 Amy:14
Chloe:15 Olivia:14 Amelia:10 Lucy:13 Katie:12 Megan:12 Ellie:11 Grace:11 Holly:10 Jade:9 Danielle:9
Samantha:9 Stacey:7 Gemma:9 Nicola:9 Claire:10 Michelle:9 Lisa:9 Helen:9 Karen:8 Susan:8 Elizabeth:10
Margaret:6 Victoria:9 Katherine:7 Jennifer:7 Natalie:8 Abigail:8 Isabella:7 Mia:8 Ava:7 Leah:8 Paige:7
Courtney:6 Shannon:6 Kayleigh:6 Zoe:8 Rachel:9 Louise:8 Joanne:7 Kelly:7 Tracey:5 Deborah:6 Patricia:5
Eleanor:6 Freya:6 Poppy:6 Evie:6 Ruby:6 Alexandra:5 Aisha:5 Jasmine:6
""")
SURNAMES = _weighted("""
Smith:100 Jones:60 Williams:55 Taylor:50 Brown:50 Davies:40 Evans:35 Wilson:35 Thomas:30 Johnson:30
Roberts:30 Robinson:28 Thompson:28 Wright:28 Walker:26 White:26 Edwards:24 Hughes:24 Green:24 Hall:24
Lewis:23 Harris:23 Clarke:23 Patel:22 Jackson:22 Wood:21 Turner:20 Martin:20 Cooper:20 Hill:20 Ward:19
Morris:19 Moore:19 Clark:18 Lee:18 King:18 Baker:18 Harrison:17 Morgan:17 Allen:16 James:16 Scott:16
Phillips:16 Watson:15 Davis:15 Parker:15 Price:14 Bennett:14 Young:14 Griffiths:14 Mitchell:14 Kelly:13
Cook:13 Carter:13 Richardson:13 Bailey:12 Collins:12 Bell:12 Shaw:12 Murphy:12 Miller:12 Cox:11
Richards:11 Khan:11 Marshall:11 Anderson:11 Simpson:10 Ellis:10 Adams:10 Singh:10 Begum:9 Wilkinson:9
Foster:9 Chapman:9 Powell:9 Webb:9 Rogers:9 Gray:9 Mason:9 Ali:9 Hunt:8 Hussain:8 Campbell:8 Matthews:8
Owen:8 Palmer:8 Holmes:8 Mills:8 Barnes:8 Knight:8 Lloyd:8 Butler:7 Russell:7 Barker:7 Fisher:7 Stevens:7
Jenkins:7 Murray:7 Dixon:7 Harvey:7 Graham:6 Pearson:6 Ahmed:6 Fletcher:6 Walsh:6 Kaur:6 Gibson:6
Howard:6 Andrews:6 Stewart:6 Elliott:6 Reynolds:6 Saunders:6 Payne:6 Fox:6 Ford:6 Pearce:6 Day:5 Brooks:5
West:5 Lawrence:5 Cole:5 Atkinson:5 Bradley:5 Spencer:5 Gill:5 Dawson:5 Ball:5 Burton:5 O'Brien:5 Watts:5
Rose:5 Booth:5 Perry:5 Ryan:5 Grant:5 Wells:5 Armstrong:5 Francis:5 Rees:5 Hayes:5 Hart:5 Hudson:5
Newman:4 Barrett:4 Webster:4 Hunter:4 Gregory:4 Carr:4 Lowe:4 Page:4 Marsh:4 Riley:4 Dunn:4 Woods:4
Parsons:4 Berry:4 Stone:4 Reid:4 Holland:4 Hawkins:4 Harding:4 Porter:4 Robertson:4 Newton:4 Oliver:4
Reed:4 Kennedy:4 Williamson:4 Bird:4 Gardner:4 Shah:4 Dean:3 Lane:3 Cooke:3 Bates:3 Henderson:3 Parry:3
Burgess:3 Bishop:3 Walton:3 Burns:3 Nicholson:3 Shepherd:3 Ross:3 Cross:3 Long:3 Freeman:3 Warren:3
Nicholls:3 Hamilton:3 Byrne:3 Sutton:3 McDonald:3 Yates:3 Hodgson:3 Robson:3 Curtis:3 Hopkins:3
O'Connor:3 Harper:3 Coleman:3 Watkins:3 Moss:3 McCarthy:3 Chambers:3 O'Neill:3 Griffin:3 Sharp:3 Hardy:3
Wheeler:3 Potter:3 Osborne:3 Johnston:3 Gordon:3 Doyle:3 Wallace:3 George:3 Jordan:3 Hutchinson:3
Reeves:3 Rowe:3
""")
# Formal name -> the short forms people give or staff write.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Robbie"), "William": ("Will", "Bill", "Billy"), "James": ("Jim", "Jimmy", "Jamie"),
    "Daniel": ("Danny", "Dan"), "Michael": ("Mike", "Mick", "Mikey"), "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris",), "Matthew": ("Matt",), "Joseph": ("Joe", "Joey"), "Samuel": ("Sam", "Sammy"),
    "Benjamin": ("Ben", "Benny"), "Alexander": ("Alex", "Xander"), "Andrew": ("Andy", "Drew"),
    "Anthony": ("Tony", "Ant"), "Nicholas": ("Nick", "Nicky"), "Jonathan": ("Jon", "Jonny"),
    "Edward": ("Ed", "Eddie", "Ted"), "Richard": ("Rich", "Richie", "Dick"), "Stephen": ("Steve", "Stevie"),
    "Steven": ("Steve",), "Henry": ("Harry", "Hal"), "Oliver": ("Ollie",), "Jacob": ("Jake",), "Joshua": ("Josh",),
    "Nathan": ("Nate", "Nat"), "Callum": ("Cal",), "Peter": ("Pete",), "Harvey": ("Harv",),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"), "Rebecca": ("Becky", "Becca"), "Jessica": ("Jess", "Jessie"),
    "Katherine": ("Kate", "Katie", "Kath"), "Victoria": ("Vicky", "Tori"), "Samantha": ("Sam", "Sammy"),
    "Jennifer": ("Jenny", "Jen"), "Margaret": ("Maggie", "Peggy", "Meg"), "Abigail": ("Abbie", "Abi"),
    "Charlotte": ("Charlie", "Lottie"), "Eleanor": ("Ellie", "Nell"), "Olivia": ("Liv", "Livvy"),
    "Amelia": ("Millie", "Amy"), "Isabella": ("Bella", "Izzy"), "Natalie": ("Nat",), "Alexandra": ("Alex", "Lexi"),
    "Deborah": ("Debbie", "Deb"), "Susan": ("Sue", "Susie"), "Patricia": ("Pat", "Trish"), "Danielle": ("Dani",),
    "Nicola": ("Nicky", "Nikki"), "Michelle": ("Shell",), "Joanne": ("Jo",), "Louise": ("Lou",),
    "Jasmine": ("Jas", "Jazz"), "Megan": ("Meg",), "Emily": ("Em",), "Jacqueline": ("Jackie",),
}
# Postcode districts of each demo district (DISTRICTS order): fictional "WX" postcode area.
OUTWARD_CODES = (("WX1", "WX2", "WX3", "WX4"), ("WX5", "WX6", "WX7", "WX8"), ("WX9", "WX10", "WX11"),
                 ("WX12", "WX13", "WX14"), ("WX15", "WX16"), ("WX17", "WX18", "WX19"))
# Letters used in the inward unit of a UK postcode (never C, I, K, M, O, V).
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
SCHOOLS_PER_DISTRICT = 5
FLAT_SHARE = .1
# Towns for synthetic_people, beyond the demo's six districts.
EXTRA_TOWNS = ("Ashcombe", "Brinton", "Calderbury", "Dunmere", "Fenwick", "Gallowmoor", "Hollins Cross",
               "Idbury", "Kestle", "Lanmouth", "Marbrook", "Netherstow", "Oxcombe", "Pellworth")


@dataclass
class Addresses:
    """A postcode and street for each (LSOA, named street): one postcode unit per street."""

    postcode: np.ndarray    # (n_lsoa, n_streets) str
    street: np.ndarray      # (n_lsoa, n_streets) str
    town: np.ndarray        # (n_lsoa,) district name

    def write(self, rng: np.random.Generator, lsoa: np.ndarray, slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Postcode and "12 Mill Lane, Portwell" (some "Flat 3, ...") for homes on the given streets."""
        n = len(lsoa)
        house = np.minimum(rng.geometric(1 / 40, n), 250)
        flat = np.where(rng.random(n) < FLAT_SHARE, rng.integers(1, 13, n), 0)
        address = [f"{f'Flat {f}, ' if f else ''}{h} {s}, {t}" for f, h, s, t in
                   zip(flat.tolist(), house.tolist(), self.street[lsoa, slot].tolist(), self.town[lsoa].tolist())]
        return self.postcode[lsoa, slot], np.array(address, dtype=object)


def build_addresses(rng: np.random.Generator, geo: Geography, streets: Streets) -> Addresses:
    """Postcodes for the demo's named streets: the district's outward code, a sector digit and a
    unit unique within the sector (letter pairs in a shuffled order)."""
    n_named = STREETS_PER_LSOA - len(SPECIAL_POINTS)
    pairs = np.array([a + b for a in UNIT_LETTERS for b in UNIT_LETTERS])[rng.permutation(len(UNIT_LETTERS) ** 2)]
    postcode = np.empty((geo.n, n_named), dtype=object)
    used: dict[str, int] = {}
    for d, outwards in enumerate(OUTWARD_CODES):
        for j, lsoa in enumerate(np.flatnonzero(geo.district == d).tolist()):
            sector = f"{outwards[j % len(outwards)]} {(j // len(outwards)) % 10}"
            start = used.get(sector, 0)
            postcode[lsoa] = [f"{sector}{p}" for p in pairs[start:start + n_named]]
            used[sector] = start + n_named
    town = np.array([DISTRICTS[d].name for d in geo.district], dtype=object)
    return Addresses(postcode, streets.names[:, :n_named].astype(object), town)


# ---- Dates -------------------------------------------------------------------------------------

def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day (1-31) of datetime64[D] values (NaT gives meaningless numbers)."""
    y = days.astype("datetime64[Y]")
    m = days.astype("datetime64[M]")
    return (y.astype(np.int64) + 1970, (m - y.astype("datetime64[M]")).astype(np.int64) + 1,
            (days - m.astype("datetime64[D]")).astype(np.int64) + 1)


def _date(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    months = (np.asarray(year) - 1970) * 12 + np.asarray(month) - 1
    return months.astype("datetime64[M]").astype("datetime64[D]") + (np.asarray(day) - 1).astype("timedelta64[D]")


def _leap(year: np.ndarray) -> np.ndarray:
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def shift_years(days: np.ndarray, years: np.ndarray | int) -> np.ndarray:
    """The same calendar day `years` later (earlier if negative); 29 February becomes the 28th."""
    y, m, d = _ymd(days)
    y = y + years
    return _date(y, m, np.where((m == 2) & (d == 29) & ~_leap(y), 28, d))


def whole_years(dob: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Age in completed years on the date `on` (meaningless where either is NaT: mask those)."""
    yb, mb, db = _ymd(dob)
    yo, mo, do = _ymd(on)
    return yo - yb - ((mo * 100 + do) < (mb * 100 + db))


def dob_for_age(rng: np.random.Generator, on: np.ndarray, age: np.ndarray) -> np.ndarray:
    """A random date of birth giving exactly `age` completed years on the date `on`."""
    anchor = shift_years(on, -np.asarray(age))
    return anchor - rng.integers(0, 365, len(anchor)).astype("timedelta64[D]")


def iso(days: np.ndarray) -> np.ndarray:
    """datetime64[D] as YYYY-MM-DD; NaT as blank. Each distinct day is formatted once."""
    unique, inverse = np.unique(days.astype("datetime64[D]"), return_inverse=True)
    text = np.datetime_as_string(unique, unit="D").astype(object)
    return np.where(np.isnat(unique), "", text).astype(object)[inverse]


def dmy(days: np.ndarray) -> np.ndarray:
    """datetime64[D] as DD/MM/YYYY; NaT as blank."""
    out = np.full(len(days), "", dtype=object)
    known = ~np.isnat(days)
    if known.any():
        out[known] = format_dates(days[known])
    return out


# ---- Identity errors ---------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def typo(name: str, r: tuple[float, float, float]) -> str:
    """One keying slip in `name` (never its first letter), chosen by three uniform numbers:
    a wrong letter, a dropped letter, a doubled letter or two neighbours swapped."""
    n = len(name)
    if n < 2:
        return name + _LETTERS[int(r[2] * 26)]
    pos = 1 + int(r[1] * (n - 1))
    op = int(r[0] * 4)
    if op == 1 and n > 3:
        return name[:pos] + name[pos + 1:]
    if op == 2:
        return name[:pos] + name[pos] + name[pos:]
    if op == 3 and n > 2:
        pos = min(pos, n - 2)
        if name[pos] != name[pos + 1]:
            return name[:pos] + name[pos + 1] + name[pos] + name[pos + 2:]
    letter = _LETTERS[int(r[2] * 26)]
    if letter == name[pos].lower():
        letter = _LETTERS[(int(r[2] * 26) + 1) % 26]
    return name[:pos] + letter + name[pos + 1:]


def _typos(rng: np.random.Generator, names: np.ndarray, rows: np.ndarray) -> None:
    """Apply 1 (80%) or 2 (20%) slips to names[rows], in place."""
    r = rng.random((len(rows), 7))
    for i, row in enumerate(rows.tolist()):
        name = typo(names[row], r[i, :3])
        if r[i, 6] < .2:
            name = typo(name, r[i, 3:6])
        names[row] = name


def corrupt(rng: np.random.Generator, first: np.ndarray, surname: np.ndarray, dob: np.ndarray, sex: np.ndarray,
            postcode: np.ndarray, address: np.ndarray, rates: ErrorRates,
            latest_dob: np.ndarray | None = None) -> tuple[Table, Table]:
    """What an agency writes for people whose true details are given (one row per record).

    Returns the recorded fields (strings; `dob` stays datetime64[D] with NaT for missing) and a
    boolean column per error kind. A changed date of birth never falls after `latest_dob` (the
    event date): such a change is dropped, so natural rows always pass an ingest's date checks."""
    n = len(first)
    draw = lambda p: rng.random(n) < p  # noqa: E731
    first, surname, postcode, address = (np.array(a, dtype=object) for a in (first, surname, postcode, address))
    flags: Table = {}

    has_nick = np.array([name in NICKNAMES for name in first.tolist()])
    flags["nickname"] = draw(rates.nickname) & has_nick
    pick = rng.integers(0, 1 << 30, n)
    for row in np.flatnonzero(flags["nickname"]).tolist():
        options = NICKNAMES[first[row]]
        first[row] = options[pick[row] % len(options)]
    flags["first_typo"], flags["surname_typo"] = draw(rates.first_typo), draw(rates.surname_typo)
    _typos(rng, first, np.flatnonzero(flags["first_typo"]))
    _typos(rng, surname, np.flatnonzero(flags["surname_typo"]))
    flags["swapped"] = draw(rates.swapped)
    first, surname = np.where(flags["swapped"], surname, first), np.where(flags["swapped"], first, surname)

    recorded, dob_flags = _corrupt_dob(rng, dob, rates, latest_dob)
    flags |= dob_flags
    flags["first_missing"], flags["surname_missing"] = draw(rates.first_missing), draw(rates.surname_missing)
    flags["sex_unknown"] = draw(rates.sex_unknown)
    flags["postcode_missing"] = draw(rates.postcode_missing)
    flags["postcode_no_space"] = draw(rates.postcode_no_space) & ~flags["postcode_missing"]
    flags["address_missing"] = draw(rates.address_missing)
    no_space = np.flatnonzero(flags["postcode_no_space"])
    postcode[no_space] = [p.replace(" ", "") for p in postcode[no_space].tolist()]
    fields = {
        "first_name": np.where(flags["first_missing"], "", first).astype(object),
        "surname": np.where(flags["surname_missing"], "", surname).astype(object),
        "dob": recorded,
        "sex": np.where(flags["sex_unknown"], "U", sex).astype(object),
        "postcode": np.where(flags["postcode_missing"], "", postcode).astype(object),
        "address": np.where(flags["address_missing"], "", address).astype(object),
    }
    return fields, flags


def _corrupt_dob(rng: np.random.Generator, dob: np.ndarray, rates: ErrorRates,
                 latest: np.ndarray | None) -> tuple[np.ndarray, Table]:
    """Transposed day and month, a year out, or missing."""
    n = len(dob)
    y, m, d = _ymd(dob)
    transposed = (rng.random(n) < rates.dob_transposed) & (d <= 12) & (d != m)
    year_out = (rng.random(n) < rates.dob_year) & ~((m == 2) & (d == 29)) & ~transposed
    step = np.where(rng.random(n) < .5, -1, 1)
    out = np.where(transposed, _date(y, d, m), dob)
    out = np.where(year_out, _date(y + step, m, d), out)
    if latest is not None:
        too_late = out > latest
        out = np.where(too_late, dob, out)
        transposed, year_out = transposed & ~too_late, year_out & ~too_late
    missing = rng.random(n) < rates.dob_missing
    out = np.where(missing, np.datetime64("NaT"), out).astype("datetime64[D]")
    return out, {"dob_transposed": transposed & ~missing, "dob_year": year_out & ~missing, "dob_missing": missing}


# ---- True people -------------------------------------------------------------------------------

@dataclass
class PoliceYear:
    """One year's simulated crimes (every extract row, file order) and which rows load cleanly."""

    crimes: Table
    loads: np.ndarray


@dataclass
class Population:
    """True people, one row each. Moves and surname changes take effect on their date (NaT: never)."""

    person: np.ndarray        # truth id "T0000001"
    first: np.ndarray
    surname: np.ndarray
    sex: np.ndarray           # M / F
    dob: np.ndarray           # datetime64[D]
    district: np.ndarray      # home district index
    postcode: np.ndarray
    address: np.ndarray
    moved_on: np.ndarray      # datetime64[D] or NaT
    new_postcode: np.ndarray
    new_address: np.ndarray
    renamed_on: np.ndarray    # datetime64[D] or NaT
    new_surname: np.ndarray

    def at(self, idx: np.ndarray, on: np.ndarray) -> Table:
        """Each person's true details as they stood on the given dates."""
        moved = self.moved_on[idx] <= on
        renamed = self.renamed_on[idx] <= on
        return {"first": self.first[idx], "surname": np.where(renamed, self.new_surname[idx], self.surname[idx]),
                "dob": self.dob[idx], "sex": self.sex[idx],
                "postcode": np.where(moved, self.new_postcode[idx], self.postcode[idx]),
                "address": np.where(moved, self.new_address[idx], self.address[idx])}


CRIME_COLUMNS = ("crime_ref", "recorded", "code", "subcode", "knife", "lsoa", "victim_urn", "victim_age",
                 "victim_sex", "suspects", "domestic")


def confirmed_crimes(years: list[PoliceYear]) -> Table:
    """The confirmed crimes of every year in recording order, with `loads` (the extract row is valid).
    Cancelled and transferred crimes are not in the force's person-level extract."""
    parts = []
    for year in years:
        keep = year.crimes["status"] == "Confirmed"
        part = {k: year.crimes[k][keep] for k in CRIME_COLUMNS}
        part["loads"] = year.loads[keep]
        parts.append(part)
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def suspect_mentions(crimes: Table) -> Table:
    """One row per (crime, suspect URN) in the order the extract lists them."""
    lists = [s.split(";") if s else [] for s in crimes["suspects"].tolist()]
    counts = np.array([len(x) for x in lists], dtype=np.int64)
    crime = np.repeat(np.arange(len(lists)), counts)
    slot = np.arange(len(crime)) - np.repeat(np.cumsum(counts) - counts, counts)
    return {"crime": crime, "slot": slot, "urn": np.array([u for x in lists for u in x], dtype=object)}


@dataclass
class People:
    """The population and how police URNs map onto it: suspect URN i (sorted) is person i; victim
    URN j (sorted) is person victim_index[j] - a suspect's index for the overlapping people."""

    pop: Population
    suspect_urn: np.ndarray
    victim_urn: np.ndarray
    victim_index: np.ndarray
    overlap_victim_urns: np.ndarray

    def suspects(self, urns: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.suspect_urn, urns.astype(str))

    def victims(self, urns: np.ndarray) -> np.ndarray:
        return self.victim_index[np.searchsorted(self.victim_urn, urns.astype(str))]


def build_people(rng: np.random.Generator, crimes: Table, mentions: Table, geo: Geography, addresses: Addresses,
                 pool: SuspectPool, period: tuple[np.datetime64, np.datetime64]) -> People:
    """Give every suspect and victim URN a true person; OVERLAP_SHARE of suspects are also behind
    a victim URN."""
    s_urn, s_first, s_count = np.unique(mentions["urn"].astype(str), return_index=True, return_counts=True)
    v_rows = np.flatnonzero(crimes["victim_urn"] != "")
    v_urn, v_first = np.unique(crimes["victim_urn"][v_rows].astype(str), return_index=True)
    v_first = v_rows[v_first]
    v_age, v_age_row = _first_known_age(crimes, v_rows, v_urn)

    n_s = len(s_urn)
    k = min(int(round(OVERLAP_SHARE * n_s)), n_s)
    candidates = np.flatnonzero((v_age >= 14) & (v_age <= 40))
    k = min(k, len(candidates))
    violent = np.isin(crimes["code"][v_age_row[candidates]], ("1", "2", "5D", "8N", "8P", "105A", "34B", "39"))
    w = np.where(violent, 3.0, 1.0)
    merged_v = np.sort(rng.choice(candidates, k, replace=False, p=w / w.sum()))
    sw = np.sqrt(s_count.astype(float))
    merged_s = rng.choice(n_s, k, replace=False, p=sw / sw.sum())
    is_merged = np.zeros(len(v_urn), dtype=bool)
    is_merged[merged_v] = True
    own_v = np.flatnonzero(~is_merged)
    v_index = np.empty(len(v_urn), dtype=np.int64)
    v_index[own_v] = n_s + np.arange(len(own_v))
    v_index[merged_v] = merged_s
    n = n_s + len(own_v)

    # Sex and date of birth: victims' from the extract (the first crime giving an age), suspects'
    # from a young-skewed age at their first crime.
    male = rng.random(n) < .82
    v_sex = crimes["victim_sex"][np.where(v_age_row >= 0, v_age_row, v_first)]
    v_male = np.where(v_sex == "U", rng.random(len(v_urn)) < .5, v_sex == "M")
    male[v_index] = v_male
    s_age = np.clip(12 + rng.gamma(2.0, 6.0, n_s), 12, 75).astype(np.int64)
    dob = np.empty(n, dtype="datetime64[D]")
    dob[:n_s] = dob_for_age(rng, crimes["recorded"][mentions["crime"][s_first]], s_age)
    v_age = np.where(v_age >= 0, v_age, np.clip(16 + rng.gamma(2.5, 8.0, len(v_urn)), 16, 90).astype(np.int64))
    v_on = crimes["recorded"][np.where(v_age_row >= 0, v_age_row, v_first)]
    dob[v_index] = dob_for_age(rng, v_on, v_age)
    # Born no later than the first crime recorded under any of the person's URNs (a victim URN's
    # age can come from a later crime than its first).
    first_seen = dob.copy()
    first_seen[:n_s] = crimes["recorded"][mentions["crime"][s_first]]
    np.minimum.at(first_seen, v_index, crimes["recorded"][v_first])
    dob = np.minimum(dob, first_seen)

    # Homes: suspects in their pool district, victims near their first crime.
    lsoa = np.empty(n, dtype=np.int64)
    pool_index = dict(zip(pool.urn.tolist(), range(len(pool.urn))))
    s_district = pool.district[[pool_index[u] for u in s_urn.tolist()]]
    lsoa[:n_s] = _lsoa_in(rng, geo, s_district)
    crime_lsoa = crimes["lsoa"][v_first[own_v]]
    near = rng.random(len(own_v)) < .7
    lsoa[n_s:] = np.where(near, crime_lsoa, _lsoa_in(rng, geo, geo.district[crime_lsoa]))
    pop = _population(rng, male, dob, lsoa, geo, addresses, period)
    return People(pop, s_urn, v_urn, v_index, v_urn[merged_v])


def _first_known_age(crimes: Table, v_rows: np.ndarray, v_urn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per victim URN (sorted), the victim age of its first crime that records one, and that crime's
    row (-1 and -1 when no crime gives an age)."""
    known = v_rows[crimes["victim_age"][v_rows] >= 0]
    urns, first = np.unique(crimes["victim_urn"][known].astype(str), return_index=True)
    pos = np.searchsorted(v_urn, urns)
    age = np.full(len(v_urn), -1, dtype=np.int64)
    row = np.full(len(v_urn), -1, dtype=np.int64)
    age[pos] = crimes["victim_age"][known[first]]
    row[pos] = known[first]
    return age, row


def _lsoa_in(rng: np.random.Generator, geo: Geography, district: np.ndarray) -> np.ndarray:
    """A home LSOA in each given district, weighted by population."""
    out = np.empty(len(district), dtype=np.int64)
    people = geo.population.sum(1).astype(float)
    for d in range(len(DISTRICTS)):
        rows = np.flatnonzero(district == d)
        members = np.flatnonzero(geo.district == d)
        out[rows] = members[rng.choice(len(members), len(rows), p=people[members] / people[members].sum())]
    return out


def _population(rng: np.random.Generator, male: np.ndarray, dob: np.ndarray, lsoa: np.ndarray, geo: Geography,
                addresses: Addresses, period: tuple[np.datetime64, np.datetime64]) -> Population:
    n = len(male)
    n_streets = addresses.street.shape[1]
    first = _names(rng, male)
    surname = SURNAMES[0][rng.choice(len(SURNAMES[0]), n, p=SURNAMES[1])]
    postcode, address = addresses.write(rng, lsoa, rng.integers(0, n_streets, n))
    moved_on, renamed_on = _change_dates(rng, n, period, male, dob)
    stay = rng.random(n) < MOVE_SAME_DISTRICT
    new_lsoa = np.where(stay, _lsoa_in(rng, geo, geo.district[lsoa]), rng.integers(0, geo.n, n))
    new_postcode, new_address = addresses.write(rng, new_lsoa, rng.integers(0, n_streets, n))
    new_surname = SURNAMES[0][rng.choice(len(SURNAMES[0]), n, p=SURNAMES[1])]
    person = np.char.add("T", np.char.zfill((rng.permutation(n) + 1).astype(str), 7)).astype(object)
    return Population(person, first, surname, np.where(male, "M", "F").astype(object), dob, geo.district[lsoa],
                      postcode, address, moved_on, new_postcode, new_address, renamed_on, new_surname)


def _names(rng: np.random.Generator, male: np.ndarray) -> np.ndarray:
    first = FEMALE_NAMES[0][rng.choice(len(FEMALE_NAMES[0]), len(male), p=FEMALE_NAMES[1])]
    boys = np.flatnonzero(male)
    first[boys] = MALE_NAMES[0][rng.choice(len(MALE_NAMES[0]), len(boys), p=MALE_NAMES[1])]
    return first


def _change_dates(rng: np.random.Generator, n: int, period: tuple[np.datetime64, np.datetime64], male: np.ndarray,
                  dob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dates of moving house (MOVE_SHARE of people) and of a surname change (SURNAME_CHANGE_SHARE of
    women aged 20+ at the start), uniform over the period; NaT for everyone else."""
    start, end = period
    span = int((end - start).astype(np.int64)) + 1
    nat = np.datetime64("NaT", "D")
    moves = rng.random(n) < MOVE_SHARE
    moved_on = np.where(moves, start + rng.integers(1, span, n).astype("timedelta64[D]"), nat)
    adult_women = ~male & (whole_years(dob, np.full(n, start)) >= 20)
    renames = adult_women & (rng.random(n) < SURNAME_CHANGE_SHARE)
    renamed_on = np.where(renames, start + rng.integers(1, span, n).astype("timedelta64[D]"), nat)
    return moved_on.astype("datetime64[D]"), renamed_on.astype("datetime64[D]")


# ---- Agency records ----------------------------------------------------------------------------

def police_records(rng: np.random.Generator, crimes: Table, mentions: Table, people: People) -> Table:
    """One row per (crime, role, person): the victim first, then the suspects as listed; some
    suspects recorded as offenders, a few of those twice (suspect and offender)."""
    v_crime = np.flatnonzero(crimes["victim_urn"] != "")
    n_m = len(mentions["crime"])
    offender = rng.random(n_m) < OFFENDER_SHARE
    twice = np.flatnonzero(offender & (rng.random(n_m) < OFFENDER_ALSO_SUSPECT))
    crime = np.concatenate([v_crime, mentions["crime"], mentions["crime"][twice]])
    order_in_crime = np.concatenate([np.zeros(len(v_crime), np.int64), 1 + 2 * mentions["slot"],
                                     2 + 2 * mentions["slot"][twice]])
    role = np.concatenate([np.full(len(v_crime), "victim", dtype=object),
                           np.where(offender, "offender", "suspect").astype(object),
                           np.full(len(twice), "suspect", dtype=object)])
    urn = np.concatenate([crimes["victim_urn"][v_crime].astype(object), mentions["urn"], mentions["urn"][twice]])
    order = np.lexsort((order_in_crime, crime))
    crime, role, urn = crime[order], role[order], urn[order]
    is_victim = role == "victim"
    person = np.where(is_victim, people.victims(np.where(is_victim, urn, people.victim_urn[0])),
                      people.suspects(np.where(is_victim, people.suspect_urn[0], urn)))
    letters = rng.random(len(role)) < ROLE_LETTER_SHARE
    letter = np.where(is_victim, "V", np.where(role == "offender", "O", "S")).astype(object)
    written = np.where(letters, letter, role)
    n = len(crime)
    return {"person": person, "event_date": crimes["recorded"][crime], "record_id": _ids("WXN", n, 8),
            "person_ref": urn, "crime_ref": crimes["crime_ref"][crime].astype(object), "role": written.astype(object),
            "_role": role, "_crime": crime, "_sex_unknown": is_victim & (crimes["victim_sex"][crime] == "U")}


def youth_justice_records(rng: np.random.Generator, crimes: Table, mentions: Table, people: People,
                          end: np.datetime64) -> Table:
    """Outcomes for some crimes of under-18 suspects (more often for serious ones), a few weeks later."""
    person, crime = _suspect_crimes(mentions, people)
    age = whole_years(people.pop.dob[person], crimes["recorded"][crime])
    code = crimes["code"][crime].astype(str)
    knife = (crimes["knife"][crime] == "Y") | np.isin(code, KNIFE_CODES)
    serious = np.isin(code, SERIOUS_CODES) | knife
    chosen = (age >= 10) & (age < 18) & (rng.random(len(crime)) < np.where(serious, YJ_P_SERIOUS, YJ_P))
    person, crime, code, knife = person[chosen], crime[chosen], code[chosen], knife[chosen]
    date = crimes["recorded"][crime] + rng.integers(14, 151, len(crime)).astype("timedelta64[D]")
    keep = date <= end
    person, crime, code, knife, date = person[keep], crime[keep], code[keep], knife[keep], date[keep]
    n = len(person)
    knife_related = np.where(knife, rng.random(n) < .9, rng.random(n) < .03)
    order = np.lexsort((crime, date))
    refs = _agency_ids(rng, person, lambda k: _ids("YJ", k, 6, rng.choice(900_000, k, replace=False) + 100_000))
    table = {"person": person, "event_date": date, "person_ref": refs,
             "event_type": _choose(rng, YJ_EVENTS, n),
             "offence_code": np.where(rng.random(n) < .1, "", code).astype(object),
             "knife_related": np.where(knife_related, "Y", "N").astype(object)}
    table = take(table, order)
    table["record_id"] = _ids("YJE", n, 6)
    return table


def probation_records(rng: np.random.Generator, crimes: Table, mentions: Table, people: People,
                      end: np.datetime64) -> Table:
    """Orders for some crimes of adult suspects, sentenced one to eight months after recording."""
    person, crime = _suspect_crimes(mentions, people)
    age = whole_years(people.pop.dob[person], crimes["recorded"][crime])
    code = crimes["code"][crime].astype(str)
    serious = np.isin(code, SERIOUS_CODES) | (crimes["knife"][crime] == "Y")
    chosen = (age >= 18) & (rng.random(len(crime)) < np.where(serious, PROBATION_P_SERIOUS, PROBATION_P))
    person, crime, code, serious = person[chosen], crime[chosen], code[chosen], serious[chosen]
    date = crimes["recorded"][crime] + rng.integers(30, 241, len(crime)).astype("timedelta64[D]")
    keep = date <= end
    person, code, serious, date, crime = person[keep], code[keep], serious[keep], date[keep], crime[keep]
    n = len(person)
    months = rng.choice([12, 18, 24, 36], n)
    end_date = (date.astype("datetime64[M]") + months.astype("timedelta64[M]")).astype("datetime64[D]") + (
        date - date.astype("datetime64[M]").astype("datetime64[D]"))
    end_date = np.where(rng.random(n) < .1, np.datetime64("NaT"), end_date).astype("datetime64[D]")
    rosh = np.where(serious, rng.choice(4, n, p=ROSH_P_SERIOUS), rng.choice(4, n, p=ROSH_P))
    letters = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"), dtype=object)
    refs = _agency_ids(rng, person, lambda k: np.char.add(
        letters[rng.integers(0, len(letters), k)].astype(str),
        (rng.choice(900_000, k, replace=False) + 100_000).astype(str)).astype(object))
    table = {"person": person, "event_date": date, "person_ref": refs, "event_type": _choose(rng, PROBATION_EVENTS, n),
             "offence_code": code.astype(object), "end_date": iso(end_date), "rosh": np.array(ROSH, dtype=object)[rosh]}
    table = take(table, np.lexsort((crime, date)))
    table["record_id"] = _ids("ORD", n, 7)
    return table


def education_records(rng: np.random.Generator, crimes: Table, mentions: Table, people: People,
                      period: tuple[np.datetime64, np.datetime64]) -> Table:
    """Suspensions and permanent exclusions of school-age suspects and victims, on term-time
    weekdays while they are 5-16; offensive-weapon reasons (OW) mostly for people with a knife crime."""
    pop = people.pop
    n = len(pop.person)
    suspect = np.zeros(n, dtype=bool)
    suspect[:len(people.suspect_urn)] = True
    knife_crime = np.zeros(n, dtype=bool)
    code = crimes["code"][mentions["crime"]].astype(str)
    is_knife = (crimes["knife"][mentions["crime"]] == "Y") | np.isin(code, KNIFE_CODES)
    knife_crime[people.suspects(mentions["urn"][is_knife])] = True
    start = np.maximum(shift_years(pop.dob, 5), period[0])
    stop = np.minimum(shift_years(pop.dob, 17) - np.timedelta64(1, "D"), period[1])
    excluded = (start <= stop) & (rng.random(n) < np.where(suspect, EXCLUDED_SUSPECT_P, EXCLUDED_VICTIM_P))
    who = np.flatnonzero(excluded)
    person = np.repeat(who, 1 + np.minimum(rng.poisson(.7, len(who)), 4))
    span = (stop[person] - start[person]).astype(np.int64) + 1
    date = start[person] + (rng.random(len(person)) * span).astype(np.int64).astype("timedelta64[D]")
    date = _term_weekday(date, start[person], stop[person])
    m = len(person)
    ow = rng.random(m) < np.where(knife_crime[person], OW_P_KNIFE, 0)
    reason = np.where(ow, "OW", _choose(rng, EXCLUSION_REASONS, m)).astype(object)
    permanent = rng.random(m) < np.where(reason == "OW", PERMANENT_P_OW, PERMANENT_P)
    schools = _schools(rng)
    school = schools[pop.district[person], person % SCHOOLS_PER_DISTRICT]
    refs = _agency_ids(rng, person, lambda k: _upns(rng, k))
    table = {"person": person, "event_date": date, "person_ref": refs,
             "event_type": np.where(permanent, "permanent_exclusion", "suspension").astype(object),
             "reason": reason, "school": school.astype(object)}
    table = take(table, np.lexsort((person, date)))
    table["record_id"] = _ids("EX", m, 6)
    return table


def ed_records(rng: np.random.Generator, crimes: Table, people: People, attendances: list[Table]) -> Table:
    """The ED attendances known to be victims of a recorded crime, with the patient's details
    (the identifiable side of the anonymised ED file: the same attendance ids)."""
    victim_of = dict(zip(crimes["crime_ref"].tolist(), crimes["victim_urn"].tolist()))
    every = {k: np.concatenate([a[k] for a in attendances]) for k in attendances[0]}
    urn = np.array([victim_of.get(ref, "") for ref in every["crime_ref"].tolist()], dtype=object)
    known = urn != ""  # unreported assaults have no crime; a few crimes have no victim URN
    every = take(every, known)
    person = people.victims(urn[known])
    refs = _agency_ids(rng, person, lambda k: _nhs_numbers(rng, k))
    return {"person": person, "event_date": every["arrival"].astype("datetime64[D]"), "person_ref": refs,
            "record_id": every["record_id"].astype(object), "assault_method": every["method_text"].astype(object),
            "site_code": every["site"].astype(object), "_weapon": every["weapon"].astype(object)}


def _suspect_crimes(mentions: Table, people: People) -> tuple[np.ndarray, np.ndarray]:
    return people.suspects(mentions["urn"]), mentions["crime"]


def _term_weekday(date: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Move weekend days to the Friday before and August days into July, staying inside [low, high]."""
    weekday = (date.astype(np.int64) + 3) % 7  # Monday = 0
    date = date - np.maximum(weekday - 4, 0).astype("timedelta64[D]")
    august = _ymd(date)[1] == 8
    date = np.where(august, date - np.timedelta64(31, "D"), date)
    return np.clip(date, low, high)


def _schools(rng: np.random.Generator) -> np.ndarray:
    """(district, school) six-digit school URNs."""
    return (rng.choice(90_000, (len(DISTRICTS), SCHOOLS_PER_DISTRICT), replace=False) + 110_000).astype(str)


def _agency_ids(rng: np.random.Generator, person: np.ndarray, make: Callable[[int], np.ndarray]) -> np.ndarray:
    """The agency's own id for each row's person: one id per person, the same on all their rows."""
    unique, inverse = np.unique(person, return_inverse=True)
    return np.asarray(make(len(unique)), dtype=object)[inverse]


def _ids(prefix: str, n: int, width: int, numbers: np.ndarray | None = None) -> np.ndarray:
    numbers = np.arange(1, n + 1) if numbers is None else numbers
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width)).astype(object)


def _upns(rng: np.random.Generator, n: int) -> np.ndarray:
    """Pupil numbers in the UPN shape: a letter and 12 digits (the 999 LA code no council uses)."""
    serial = rng.choice(1_000_000_000, n, replace=False)
    return np.char.add("W999", np.char.zfill(serial.astype(str), 9)).astype(object)


def _nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct 10-digit NHS numbers with a valid modulus-11 check digit, from the 999 range the
    NHS reserves for testing (never a real patient)."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        body = rng.integers(0, 1_000_000, 2 * (n - len(out)) + 10)
        digits = np.stack([np.full(len(body), 9), np.full(len(body), 9), np.full(len(body), 9)]
                          + [body // 10 ** (5 - i) % 10 for i in range(6)], axis=1)
        check = 11 - (digits * np.arange(10, 1, -1)).sum(1) % 11
        check = np.where(check == 11, 0, check)
        for row, c in zip(digits.tolist(), check.tolist()):
            number = "".join(map(str, row)) + str(c)
            if c != 10 and number not in seen and len(out) < n:
                seen.add(number)
                out.append(number)
    return np.array(out, dtype=object)


def _choose(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    values, p = zip(*options)
    return np.array(values, dtype=object)[rng.choice(len(values), n, p=np.array(p) / sum(p))]


# ---- Writing a file ----------------------------------------------------------------------------

@dataclass
class PeopleFile:
    """One written person-level file and what the ground truth needs from it."""

    dataset: str
    name: str
    rows: int
    records: Table            # the agency records (internal columns included), file order
    recorded_dob: np.ndarray  # datetime64[D], NaT where blank
    flags: Table              # error kind -> bool per row
    clean: np.ndarray         # first name, surname and dob exactly the person's birth details
    loads: np.ndarray         # row passes ingest (not a planted fault)
    faults: list[dict]


def write_people_file(rng: np.random.Generator, dataset: str, records: Table, pop: Population, path: Path,
                      date_format: str = "iso") -> PeopleFile:
    """Add the identity fields as the agency wrote them, plant the faulty rows and write the CSV."""
    idx, on = records["person"], records["event_date"]
    true = pop.at(idx, on)
    fields, flags = corrupt(rng, true["first"], true["surname"], true["dob"], true["sex"], true["postcode"],
                            true["address"], AGENCY_RATES[dataset], latest_dob=on)
    if "_sex_unknown" in records:  # the force writes U where the crime record has no victim sex
        fields["sex"] = np.where(records["_sex_unknown"], "U", fields["sex"]).astype(object)
    date_text = iso if date_format == "iso" else dmy
    out = {h: records[h] for h in HEADERS[dataset] if h in records}
    out |= {k: v for k, v in fields.items() if k != "dob"}
    out["dob"] = date_text(fields["dob"])
    out["event_date"] = date_text(on)
    out = {h: np.asarray(out[h], dtype=object).copy() for h in HEADERS[dataset]}
    faults = _plant_faults(rng, dataset, out, records, on, date_format)
    loads = np.ones(len(idx), dtype=bool)
    loads[[f["line"] - 2 for f in faults]] = False
    if dataset == "people_education":
        out = {EDUCATION_HEADERS[h]: v for h, v in out.items()}
    rows = write_csv(path, tuple(out), out)
    clean = ((fields["first_name"] == pop.first[idx]) & (fields["surname"] == pop.surname[idx])
             & (fields["dob"] == pop.dob[idx]))
    return PeopleFile(dataset, path.name, rows, records, fields["dob"], flags, clean, loads, faults)


def _plant_faults(rng: np.random.Generator, dataset: str, out: Table, records: Table, on: np.ndarray,
                  date_format: str) -> list[dict]:
    """Corrupt 2-4 rows (the police file: one row per fault kind), one different fault each; return
    the ground-truth entries (line: header = 1)."""
    kinds = POLICE_FAULTS if dataset == "people_police" else FAULTS
    n = len(on)
    k = min(len(kinds) if dataset == "people_police" else int(rng.integers(2, 5)), n)
    rows = np.sort(rng.choice(n, k, replace=False)).tolist()
    picked = rng.permutation(len(kinds))[:k].tolist()
    fmt = (lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}") if date_format == "iso" else (
        lambda y, m, d: f"{d:02d}/{m:02d}/{y:04d}")
    records_out = []
    for row, kind in zip(rows, picked):
        fault, field = kinds[kind]
        year = int(_ymd(on[row:row + 1])[0][0])
        if fault == "blank_record_id":
            out["record_id"][row] = ""
        elif fault == "dob_not_a_date":
            out["dob"][row] = fmt(year - 20, 2, 30)
        elif fault == "dob_after_event":
            later = on[row:row + 1] + np.timedelta64(int(rng.integers(30, 400)), "D")
            out["dob"][row] = (iso if date_format == "iso" else dmy)(later)[0]
        elif fault == "event_date_not_a_date":
            out["event_date"][row] = fmt(year, 2, 31)
        else:  # unknown_role
            out["role"][row] = "witness"
        records_out.append({"line": row + 2, "record_id": str(records["record_id"][row]), "field": field,
                            "fault": fault, "value": str(out[field][row])})
    return records_out


# ---- The whole set -----------------------------------------------------------------------------

@dataclass
class PeopleResult:
    """The written files, the truth CSV's row count and the "people" section of the ground truth."""

    files: list[PeopleFile]
    truth_rows: int
    ground_truth: dict


def write_people(out_dir: Path, rng: Rng, geo: Geography, streets: Streets, pool: SuspectPool,
                 police_years: list[PoliceYear], attendances: list[Table], years: tuple[int, ...]) -> PeopleResult:
    """Build the true people, write the five partner files, the education mapping and
    people_truth.csv, and return the "people" section of the ground truth."""
    period = (np.datetime64(f"{years[0]}-01-01"), np.datetime64(f"{years[-1]}-12-31"))
    crimes = confirmed_crimes(police_years)
    mentions = suspect_mentions(crimes)
    addresses = build_addresses(rng(0), geo, streets)
    people = build_people(rng(1), crimes, mentions, geo, addresses, pool, period)
    records = {
        "people_police": police_records(rng(2), crimes, mentions, people),
        "people_youth_justice": youth_justice_records(rng(3), crimes, mentions, people, period[1]),
        "people_education": education_records(rng(4), crimes, mentions, people, period),
        "people_probation": probation_records(rng(5), crimes, mentions, people, period[1]),
        "people_ed": ed_records(rng(6), crimes, people, attendances),
    }
    files = []
    for label, (dataset, table) in enumerate(records.items(), start=10):
        fmt = "dmy" if dataset == "people_education" else "iso"
        files.append(write_people_file(rng(label), dataset, table, people.pop, out_dir / FILE_NAMES[dataset], fmt))
    (out_dir / EDUCATION_MAPPING_NAME).write_text(EDUCATION_MAPPING_TOML, encoding="utf-8")
    truth_rows = _write_truth_csv(files, people.pop, out_dir / TRUTH_NAME)
    as_at = f"{years[-1]}-12-31"
    events = person_events(files, crimes, people.pop)
    gt = {"as_at": as_at, "files": {f.name: _file_summary(f, people.pop) for f in files},
          "faults": {f.name: f.faults for f in files},
          "police_rows_without_loaded_crime": _orphans(files[0], crimes),
          "persons": _person_summary(files, people),
          "cohorts": truth.people_cohorts(events, as_at)}
    return PeopleResult(files, truth_rows, gt)


def _write_truth_csv(files: list[PeopleFile], pop: Population, path: Path) -> int:
    """dataset, record_id (as generated, also for a row whose id was blanked), person, loads."""
    table = {
        "dataset": np.concatenate([np.full(f.rows, f.dataset, dtype=object) for f in files]),
        "record_id": np.concatenate([f.records["record_id"] for f in files]),
        "person": np.concatenate([pop.person[f.records["person"]] for f in files]),
        "loads": np.concatenate([np.where(f.loads, "true", "false") for f in files]),
    }
    return write_csv(path, TRUTH_HEADER, table)


def _file_summary(f: PeopleFile, pop: Population) -> dict:
    return {"dataset": f.dataset, "rows": f.rows, "good_rows": int(f.loads.sum()), "bad_rows": len(f.faults),
            "persons": int(len(np.unique(f.records["person"][f.loads]))),
            "person_refs": len(set(f.records["person_ref"].tolist())),
            "clean_name_dob": int(f.clean.sum()), "errors": {k: int(f.flags[k].sum()) for k in ERROR_KINDS},
            "moved": int((pop.moved_on[f.records["person"]] <= f.records["event_date"]).sum()),
            "surname_changed": int((pop.renamed_on[f.records["person"]] <= f.records["event_date"]).sum())}


def _orphans(police: PeopleFile, crimes: Table) -> dict:
    """Police rows that load but whose crime is quarantined from the extract: no cohort counts them."""
    orphan = police.loads & ~crimes["loads"][police.records["_crime"]]
    return {"rows": int(orphan.sum()), "record_ids": [str(r) for r in police.records["record_id"][orphan].tolist()]}


def _person_summary(files: list[PeopleFile], people: People) -> dict:
    """How many true people the files hold, and how many are in more than one agency's files."""
    agencies = np.zeros(len(people.pop.person), dtype=np.int64)
    for f in files:
        agencies[np.unique(f.records["person"][f.loads])] += 1
    by_count = np.bincount(agencies, minlength=6)
    return {"people": int((agencies > 0).sum()), "in_agencies": {str(k): int(by_count[k]) for k in range(1, 6)},
            "suspect_urns": len(people.suspect_urn), "victim_urns": len(people.victim_urn),
            "suspects_also_victims": len(people.overlap_victim_urns)}


def person_events(files: list[PeopleFile], crimes: Table, pop: Population) -> pd.DataFrame:
    """The person-event history of the contract (section 3) with TRUE people as person_id, from the
    rows that load (police rows only where their crime loads too). age_at_event comes from the
    date of birth as written on the row (blank dob: no age), as an ingest computes it."""
    attrs = truth.crime_attributes(crimes)
    parts = [_events_of(f, crimes, attrs, pop) for f in files]
    columns = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    age = columns.pop("_age")
    events = pd.DataFrame({k: pd.Series(v, dtype=v.dtype) for k, v in columns.items()})  # object stays object
    events["age_at_event"] = pd.array(np.where(age < 0, 0, age), dtype="Int64")
    events.loc[age < 0, "age_at_event"] = pd.NA
    return events


def _events_of(f: PeopleFile, crimes: Table, attrs: dict[str, np.ndarray], pop: Population) -> Table:
    """One file's loading rows as event columns (None / False / NaN where the source has no value)."""
    r = f.records
    keep = f.loads & (crimes["loads"][r["_crime"]] if f.dataset == "people_police" else True)
    idx = np.flatnonzero(keep)
    n = len(idx)
    on, dob = r["event_date"][idx], f.recorded_dob[idx]
    none = np.full(n, None, dtype=object)
    out = {"person_id": pop.person[r["person"][idx]], "record_id": r["record_id"][idx],
           "source": np.full(n, f.dataset, dtype=object), "role": np.full(n, "subject", dtype=object),
           "event_date": on.astype("datetime64[s]"), "crime_ref": none, "offence_code": none, "offence_group": none,
           "offence_subgroup": none, "serious_violence": np.zeros(n, bool), "knife_enabled": np.zeros(n, bool),
           "harm": np.full(n, np.nan), "event_type": none, "reason": none, "knife_related": np.zeros(n, bool),
           "weapon": none, "sex": pop.sex[r["person"][idx]],
           "_age": np.where(np.isnat(dob), -1, whole_years(dob, on))}
    if f.dataset == "people_police":
        crime = r["_crime"][idx]
        out |= {k: attrs[k][crime] for k in ("offence_code", "offence_group", "offence_subgroup", "serious_violence",
                                              "knife_enabled", "harm")}
        out |= {"role": r["_role"][idx], "crime_ref": crimes["crime_ref"][crime].astype(object)}
    if "offence_code" in r:
        out["offence_code"] = np.where(r["offence_code"][idx] == "", None, r["offence_code"][idx])
    for column in ("event_type", "reason"):
        if column in r:
            out[column] = r[column][idx]
    if "knife_related" in r:
        out["knife_related"] = r["knife_related"][idx] == "Y"
    if "_weapon" in r:
        out["weapon"] = r["_weapon"][idx]
    return out


# ---- Synthetic people for linkage benchmarks ---------------------------------------------------

MAX_RECORDS_PER_PERSON = 10


def synthetic_people(n_records: int, seed: int = 0, dup_rate: float = 0.3) -> pd.DataFrame:
    """A dedupe table of `n_records` person records with the demo's error model, for linkage tests.

    Columns: record_id, first_name, surname, dob (ISO or blank), sex, postcode, address, person
    (the true id). `dup_rate` is the share of records that repeat a person already in the table,
    so there are n_records x (1 - dup_rate) people: most appear once, the rest 2-10 times
    (geometric tail). Rows are in random order. 1,000,000 records take well under a minute."""
    return synthetic_people_with_truth(n_records, seed, dup_rate)[0]


def synthetic_people_with_truth(n_records: int, seed: int = 0,
                                dup_rate: float = 0.3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`synthetic_people` and the true people behind it (person, first_name, surname, dob, sex,
    postcode, address, moved, renamed) - for checking error rates."""
    if n_records < 1:
        raise ValueError(f"n_records must be at least 1, got {n_records!r}")
    if not 0 <= dup_rate < 0.9:
        raise ValueError(f"dup_rate must be in [0, 0.9), got {dup_rate!r}")
    rng = np.random.default_rng([seed, 0x9E091E])
    counts = _records_per_person(rng, n_records, dup_rate)
    n = len(counts)
    male = rng.random(n) < .5
    age = np.where(rng.random(n) < .45, 10 + rng.gamma(2.0, 7.0, n), rng.uniform(0, 95, n)).clip(0, 99)
    today = np.datetime64("2025-12-31")
    dob = today - (age * 365.25).astype(np.int64).astype("timedelta64[D]")
    book = _synthetic_addresses(rng, max(200, min(n // 12, 150_000)))
    first, surname = _names(rng, male), SURNAMES[0][rng.choice(len(SURNAMES[0]), n, p=SURNAMES[1])]
    postcode, address = book(rng, n)
    new_postcode, new_address = book(rng, n)
    moved = rng.random(n) < MOVE_SHARE
    renamed = ~male & (age >= 20) & (rng.random(n) < SURNAME_CHANGE_SHARE)
    new_surname = SURNAMES[0][rng.choice(len(SURNAMES[0]), n, p=SURNAMES[1])]
    person_ids = np.char.add("T", np.char.zfill((np.arange(n) + 1).astype(str), 8)).astype(object)

    idx = rng.permutation(np.repeat(np.arange(n), counts))
    later = rng.random(len(idx)) < .5  # a record after the move / the change of name
    use_new_home = moved[idx] & later
    fields, _ = corrupt(rng, first[idx], np.where(renamed[idx] & later, new_surname[idx], surname[idx]), dob[idx],
                        np.where(male[idx], "M", "F").astype(object),
                        np.where(use_new_home, new_postcode[idx], postcode[idx]),
                        np.where(use_new_home, new_address[idx], address[idx]), ERROR_RATES, latest_dob=None)
    records = pd.DataFrame({"record_id": _ids("R", len(idx), 8), **{k: fields[k] for k in IDENTITY if k != "dob"}})
    records.insert(3, "dob", iso(fields["dob"]))
    records["person"] = person_ids[idx]
    people = pd.DataFrame({"person": person_ids, "first_name": first, "surname": surname, "dob": iso(dob),
                           "sex": np.where(male, "M", "F"), "postcode": postcode, "address": address,
                           "moved": moved, "renamed": renamed})
    return records, people


def _records_per_person(rng: np.random.Generator, n_records: int, dup_rate: float) -> np.ndarray:
    """Records per person summing to n_records: singletons, and people with 2-10 records."""
    n_people = max(1, n_records - int(round(dup_rate * n_records)))
    extra = n_records - n_people
    if extra == 0:
        return np.ones(n_people, dtype=np.int64)
    sizes = 2 + np.minimum(rng.geometric(.45, extra) - 1, MAX_RECORDS_PER_PERSON - 2)
    total = np.cumsum(sizes - 1)
    k = int(np.searchsorted(total, extra)) + 1
    sizes = sizes[:k].copy()
    sizes[-1] -= total[k - 1] - extra
    sizes = sizes[sizes > 1]
    counts = np.ones(n_people, dtype=np.int64)
    counts[rng.choice(n_people, len(sizes), replace=False)] = sizes
    return counts


def _synthetic_addresses(rng: np.random.Generator, n_postcodes: int) -> Callable:
    """A postcode book (postcode -> one street in one town) and a function drawing homes from it."""
    towns = np.array([d.name for d in DISTRICTS] + list(EXTRA_TOWNS), dtype=object)
    n_out = 40
    combos = rng.choice(n_out * 10 * len(UNIT_LETTERS) ** 2, n_postcodes, replace=False)
    outward, rest = combos // (10 * 400), combos % (10 * 400)
    sector, unit = rest // 400, rest % 400
    letters = np.array(list(UNIT_LETTERS), dtype=object)
    postcode = np.array([f"WX{o + 1} {s}{letters[u // 20]}{letters[u % 20]}"
                         for o, s, u in zip(outward.tolist(), sector.tolist(), unit.tolist())], dtype=object)
    stems = np.array([f"{s} {k}" for s in _STREET_STEMS for k in _STREET_KINDS], dtype=object)
    street = stems[rng.integers(0, len(stems), n_postcodes)]
    town = towns[outward % len(towns)]
    weight = rng.gamma(1.0, 1.0, n_postcodes)

    def homes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        pick = rng.choice(n_postcodes, n, p=weight / weight.sum())
        house = np.minimum(rng.geometric(1 / 40, n), 250).astype(str).astype(object)
        address = house + " " + street[pick] + ", " + town[pick]
        return postcode[pick], address

    return homes

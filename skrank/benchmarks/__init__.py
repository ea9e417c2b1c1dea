"""Side-by-side benchmark of skrank: run ``python -m skrank.benchmarks --help``.

Compares :class:`skrank.RankingClassifier` with a hand-written Keras 3 DLRM and
scikit-learn's HistGradientBoostingClassifier on generated Criteo-like data.
"""

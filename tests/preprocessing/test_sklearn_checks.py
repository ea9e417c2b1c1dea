"""scikit-learn's estimator checks, plus the pandas-output checks they do not run."""

import pytest
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    parametrize_with_checks,
)

from skrank.preprocessing import RankingPreprocessor


@parametrize_with_checks([RankingPreprocessor()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# These checks fit on DataFrames and transform arrays (and back) on purpose.
@pytest.mark.filterwarnings("ignore:X (does not have valid|has) feature names:UserWarning")
@pytest.mark.parametrize(
    "check",
    [
        check_global_output_transform_pandas,
        check_set_output_transform,
        check_set_output_transform_pandas,
        check_transformer_get_feature_names_out,
        check_transformer_get_feature_names_out_pandas,
    ],
)
def test_set_output_and_feature_names_checks(check):
    check("RankingPreprocessor", RankingPreprocessor())

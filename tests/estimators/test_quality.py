"""The default classifier learns the feature interactions a linear model cannot."""

from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skrank import RankingClassifier
from skrank.datasets import make_ctr_classification


def test_default_classifier_beats_one_hot_logistic_regression_on_interactions():
    X, y = make_ctr_classification(
        n_samples=8_000,
        n_dense=2,
        n_categorical=4,
        cardinalities=20,
        missing_rate=0.0,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    categorical = [c for c in X.columns if c.startswith("C")]
    dense = [c for c in X.columns if c.startswith("I")]
    linear = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), categorical), (StandardScaler(), dense)
        ),
        LogisticRegression(max_iter=1000),
    ).fit(X_train, y_train)
    auc_linear = roc_auc_score(y_test, linear.predict_proba(X_test)[:, 1])

    deep = RankingClassifier(random_state=0).fit(X_train, y_train)
    auc_deep = roc_auc_score(y_test, deep.predict_proba(X_test)[:, 1])

    print(f"held-out AUC: RankingClassifier {auc_deep:.4f}, one-hot LR {auc_linear:.4f}")
    assert auc_deep > auc_linear + 0.05

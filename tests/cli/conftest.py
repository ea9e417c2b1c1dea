import os

# As `python -m skrank` does (see skrank._cli.main): passive OpenMP waiting keeps
# HistGradientBoosting from spinning against TensorFlow's threads on a busy machine.
# It only works before the OpenMP runtime loads, hence here, before any import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from skrank._cli import main  # noqa: E402

# Tiny networks and two epochs: these tests check the plumbing, not the model.
TINY = [
    "--epochs", "2",
    "--batch-size", "32",
    "--embedding-dim", "4",
    "--bottom-stack", "8",
    "--top-stack", "8",
]  # fmt: skip


def clicks_frame(n=240, seed=0):
    """String and integer ids, a number, a 0/1 click and a rating with some signal."""
    rng = np.random.default_rng(seed)
    user = rng.integers(0, 12, size=n)
    item = rng.integers(100, 130, size=n)
    price = rng.lognormal(2, 0.5, size=n).round(2)
    logit = (user % 3 - 1) + (item % 2) - 0.1 * (price - 7)
    return pd.DataFrame(
        {
            "user": [f"u{u}" for u in user],
            "item": item,
            "price": price,
            "clicked": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int),
            "rating": (3 + logit + rng.normal(0, 0.5, size=n)).clip(0.5, 5).round(1),
        }
    )


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """clicks.csv and ratings.parquet (train) plus new.csv / new.parquet (to score)."""
    root = tmp_path_factory.mktemp("cli-data")
    train, new = clicks_frame(), clicks_frame(n=37, seed=1)
    train.to_csv(root / "clicks.csv", index=False)
    train.to_parquet(root / "ratings.parquet", index=False)
    new.drop(columns=["clicked", "rating"]).to_csv(root / "new.csv", index=False)
    new.to_parquet(root / "new.parquet", index=False)
    return root


@pytest.fixture(scope="session")
def click_model(data_dir):
    """A classifier fitted once from CSV, with the integer item ids embedded."""
    path = data_dir / "ctr.skrank"
    argv = ["fit", str(data_dir / "clicks.csv"), "--target", "clicked", "--out", str(path)]
    argv += ["--categorical", "item", "--drop", "rating", *TINY]
    assert main(argv) == 0
    return path


@pytest.fixture(scope="session")
def rating_model(data_dir):
    """A DCN-v2 regressor fitted once from Parquet."""
    path = data_dir / "rating.skrank"
    argv = ["fit", str(data_dir / "ratings.parquet"), "--target", "rating", "--out", str(path)]
    argv += ["--drop", "clicked", "--interaction", "cross", *TINY]
    assert main(argv) == 0
    return path

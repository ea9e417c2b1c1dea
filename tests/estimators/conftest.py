import numpy as np
import pandas as pd
import pytest

# Tiny networks, one model each, keep these tests fast; the sklearn checks
# (test_common.py) use the defaults, and the ensembles have tests of their own.
SMALL = dict(
    embedding_dim=4, bottom_stack=(16,), top_stack=(16,), epochs=20, batch_size=32, ensemble_size=1
)
# For the tests of training paths (files, strategies) on 1,000+ rows: one model unless a
# test asks for more (ensemble_size="auto" trains five there).
TINY_ONE_MODEL = dict(
    embedding_dim=4,
    bottom_stack=(8,),
    top_stack=(8,),
    batch_size=64,
    ensemble_size=1,
    random_state=0,
)


def mixed_frame(n=400, seed=0):
    """Strings, category, bool, NaN, nullable ints and floats, with a learnable target."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["paris", "tokyo", "lima", "oslo"], size=n)
    device = pd.Categorical(
        rng.choice(["ios", "android", "web"], size=n), categories=["ios", "android", "web", "tv"]
    )
    premium = rng.random(n) < 0.3
    visits = pd.array(rng.poisson(3, size=n), dtype="Int64")
    visits[rng.random(n) < 0.1] = pd.NA
    price = rng.lognormal(3, 1, size=n)
    price[rng.random(n) < 0.1] = np.nan
    X = pd.DataFrame(
        {
            "city": pd.array(city, dtype="str"),
            "device": device,
            "premium": premium,
            "visits": visits,
            "price": price,
            "note": pd.Series(rng.choice(["a", "b", None], size=n), dtype=object),
        }
    )
    logit = (
        1.5 * (city == "paris")
        - 1.0 * (city == "lima")
        + 1.2 * premium * (np.asarray(device) == "ios")
        + 0.3 * np.nan_to_num(np.asarray(visits, dtype=float), nan=3.0)
        - 1.0
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.fixture
def mixed():
    return mixed_frame()

"""Initializers for several weights that must not start from the same values."""

from skrank._tf import import_tensorflow

import_tensorflow()

import keras  # noqa: E402


def fresh_initializer(initializer):
    """An initializer for one more weight that will not repeat another weight's values.

    Keras draws an unseeded initializer's random seed once, when it is created, so
    one object shared by two weights of the same shape gives both the same values;
    a copy gets its own seed. An initializer seeded with a ``SeedGenerator``
    advances the generator at every call, so it is shared as it is: the weights
    differ and the whole model stays reproducible from that one generator.
    """
    if isinstance(getattr(initializer, "seed", None), keras.random.SeedGenerator):
        return initializer
    if isinstance(initializer, keras.initializers.Initializer):
        return initializer.__class__.from_config(initializer.get_config())
    return initializer


def copyable_initializer(initializer):
    """An initializer that a layer may copy (as keras-rs layers do) without repeats.

    Copying an initializer seeded with a ``SeedGenerator`` copies the generator's
    starting state, so every copy would draw the same values. This gives each
    caller an int seed drawn from the generator instead: distinct, reproducible.
    """
    generator = getattr(initializer, "seed", None)
    if not isinstance(generator, keras.random.SeedGenerator):
        return fresh_initializer(initializer)
    seed = keras.random.randint((), 0, 2**31 - 1, seed=generator)
    config = initializer.get_config()
    config["seed"] = int(keras.ops.convert_to_numpy(seed))
    return initializer.__class__.from_config(config)

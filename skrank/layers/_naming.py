"""Turn arbitrary feature names into names Keras accepts for layers and weights."""

import re

_UNSAFE = re.compile(r"[^0-9A-Za-z_.\-]")


def sanitized_names(keys):
    """Map each key to a unique name made of ``[0-9A-Za-z_.-]`` characters.

    Keras rejects ``/`` in layer and weight names, and spaces make paths hard to
    read, so ``"user id"`` becomes ``"user_id"``. Keys that collide after
    sanitizing get a numeric suffix, in the order given.
    """
    names = {}
    taken = set()
    for key in keys:
        base = _UNSAFE.sub("_", str(key)) or "feature"
        name, suffix = base, 1
        while name in taken:
            name = f"{base}_{suffix}"
            suffix += 1
        taken.add(name)
        names[key] = name
    return names

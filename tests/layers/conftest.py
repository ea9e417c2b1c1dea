"""Import TensorFlow quietly before the tests import keras."""

from skrank._tf import import_tensorflow

import_tensorflow()

"""Sphinx configuration of the skrank documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (``tox -e docs``).
``-D plot_gallery=0`` renders the gallery without running the examples; setting
``SKRANK_EXAMPLE_SMALL=1`` runs them on small data.
"""

import os
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # build from a checkout without installing

import skrank  # noqa: E402

# -- Project -----------------------------------------------------------------
project = "skrank"
author = "the skrank developers"
copyright = "the skrank developers"  # noqa: A001
release = skrank.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
default_role = "literal"
nitpicky = False  # Keras / scikit-learn types in docstrings are not cross-linked offline

# -- autodoc / autosummary / numpydoc -----------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False, "inherited-members": False}
autodoc_typehints = "none"  # the numpydoc "Parameters" sections say it better
autodoc_mock_imports = []

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Docstring style checks are off in the normal build, so that a style nit in a
# docstring does not fail ``-W``. ``SKRANK_NUMPYDOC_VALIDATION=1`` turns on the
# checks below (they then fail the ``-W`` build) to review docstrings.
if os.environ.get("SKRANK_NUMPYDOC_VALIDATION") == "1":
    numpydoc_validation_checks = {
        "all",
        "ES01",  # extended summary: not every method needs one
        "EX01",  # an Examples section on every method is noise
        "SA01",  # See Also on every method is noise
        "GL08",  # undocumented private / inherited Keras methods
        "RT02",  # "Returns" names are welcome but not required
        "SS05",  # "Return ..." vs "Returns ..." mood is a house choice
        "PR02",  # **kwargs forwarded to Keras
    }
    numpydoc_validation_exclude = {
        r"\.__init__$",
        r"\.get_config$",
        r"\.from_config$",
        # keras-rs layers re-exported as they are: Google-style docstrings.
        r"^skrank\.layers\.(DotInteraction|FeatureCross)\b",
    }

# -- sphinx-gallery -----------------------------------------------------------


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skrank",),
    "reference_url": {"skrank": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "min_reported_time": 5,
    "show_memory": False,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# The examples print Keras / TensorFlow output; keep the plots non-interactive.
os.environ.setdefault("MPLBACKEND", "Agg")

# -- doctest (``sphinx-build -b doctest docs docs/_build/doctest``) ------------
doctest_global_setup = """
import numpy as np
import pandas as pd
"""

# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skrank {release}"
html_static_path = ["_static"]
html_css_files = ["skrank.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_context = {"default_mode": "light"}


# -- Docstrings of re-exported keras-rs layers ----------------------------------
# skrank.layers re-exports keras-rs's DotInteraction and FeatureCross unchanged.
# Their docstrings are Google style with Markdown code fences and links; turn
# them into reStructuredText before numpydoc sees them.

_MD_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


def _markdown_to_rst(lines):
    out, in_fence = [], False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("```"):
            if in_fence:
                out.append("")
            else:
                language = stripped[3:].strip() or "text"
                indent = line[: len(line) - len(line.lstrip())]
                out.extend([f"{indent}.. code-block:: {language}", ""])
            in_fence = not in_fence
            continue
        if in_fence:
            out.append(f"    {line}" if stripped else "")
        else:
            out.append(_MD_LINK.sub(r"`\1 <\2>`__", line))
    return out


def _keras_rs_docstring(app, what, name, obj, options, lines):
    if not getattr(obj, "__module__", "").startswith("keras_rs"):
        return
    from sphinx.ext.napoleon import Config
    from sphinx.ext.napoleon.docstring import GoogleDocstring

    config = Config(napoleon_use_param=True, napoleon_use_rtype=True)
    converted = GoogleDocstring(_markdown_to_rst(lines), config, app, what, name, obj).lines()
    lines[:] = converted


# ``shape (n_features_in_,)`` reads as a reference to a target "n_features_in"
# in reStructuredText; quote such fitted-attribute names the way scikit-learn
# writes them, ``(`n_features_in_`,)``.
_BARE_FITTED_NAME = re.compile(r"(?<![`\w])([A-Za-z]\w*_)(?=,\))")


def _quote_fitted_names(app, what, name, obj, options, lines):
    if not name.startswith("skrank"):
        return
    lines[:] = [_BARE_FITTED_NAME.sub(r"`\1`", line) for line in lines]


def setup(app):
    # Both run before numpydoc (priority 500) reads the docstring.
    app.connect("autodoc-process-docstring", _keras_rs_docstring, priority=400)
    app.connect("autodoc-process-docstring", _quote_fitted_names, priority=400)

"""Attribution: which touches earn the conversions (DOMAIN.md, "Attribution").

Rule-based models (:mod:`.heuristics`), the exact Markov chain (:mod:`.markov`), Shapley
values (:mod:`.shapley`) and the counterfactual data-driven model (:mod:`.counterfactual`),
on a workspace's journeys (``Workspace.attribution``) or on a plain ChannelAttribution path
table (``touchlens.attribution.markov(paths_df)`` …). Results: one row per model × label
with ``model``, the label (``channel``/``touchpoint``), ``conversions``, ``revenue``,
``share``, ``ci_low``, ``ci_high``.
"""

# The model modules load first: importing a submodule binds its name on this package, so
# the functions of the same name (markov, shapley, counterfactual, heuristics) must be bound
# after every submodule is in place, or a later import would hide them.
from touchlens.attribution import counterfactual as _counterfactual  # noqa: F401
from touchlens.attribution import heuristics as _heuristics  # noqa: F401
from touchlens.attribution import markov as _markov  # noqa: F401
from touchlens.attribution import shapley as _shapley  # noqa: F401
from touchlens.attribution.api import (
    attribute,
    compare,
    counterfactual,
    heuristics,
    markov,
    shapley,
)
from touchlens.attribution.engine import MODELS, result_columns
from touchlens.attribution.evaluate import score, tv_distance
from touchlens.attribution.pathfile import PATH_COLUMNS, read_paths, write_paths
from touchlens.attribution.paths import PathSource, from_path_frame

__all__ = ["MODELS", "PATH_COLUMNS", "PathSource", "attribute", "compare", "counterfactual",
           "from_path_frame", "heuristics", "markov", "read_paths", "result_columns", "score",
           "shapley", "tv_distance", "write_paths"]

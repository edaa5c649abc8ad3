"""A seeded demo world: an omnichannel retailer whose true touchpoint effects are known.

Public API::

    world = simulate_retailer(5000, seed=0)          # SimulatedWorld (Arrow tables + truth)
    write_parquet("out/", 1_000_000, seed=0)        # streamed, chunk by chunk
    true_conversion_probability({"search_ad": 2}, base=0.05)

Conversions are ``purchase`` events. See :mod:`touchlens.simulate.ground_truth` for the
conversion model and the definition of ``true_share``.
"""

from touchlens.simulate.ground_truth import saturation, true_conversion_probability
from touchlens.simulate.spec import EXPOSURES, Exposure, WorldParams
from touchlens.simulate.world import SimulatedWorld, simulate_retailer
from touchlens.simulate.writer import write_parquet

__all__ = ["EXPOSURES", "Exposure", "SimulatedWorld", "WorldParams", "saturation",
           "simulate_retailer", "true_conversion_probability", "write_parquet"]

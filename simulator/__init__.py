"""Climate displacement scenario simulator (climdisp).

Households respond to climate hazard grids in a Mesa agent-based model; planners compare
capacity scenarios by region. Quick use from Python::

    from simulator import load_scenario, DisplacementModel
    model = DisplacementModel(load_scenario("scenarios/demo.toml"))
    results = model.run()          # an xarray.Dataset
"""

__version__ = "0.1.0"

from simulator.inputs.config import load_scenario  # noqa: E402
from simulator.model import DisplacementModel  # noqa: E402

__all__ = ["DisplacementModel", "load_scenario", "__version__"]

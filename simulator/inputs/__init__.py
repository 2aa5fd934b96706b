"""Inputs: scenario config, hazard grids, population, regions and observations."""

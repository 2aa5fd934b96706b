"""Run one scenario, sweeps (local pool or Dask) and return-period risk."""

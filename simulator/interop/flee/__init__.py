"""Flee / DFlee case folders: reader, settings, observed counts and conversion to a scenario.

``reader`` (``read_flee``: the case folder) uses ``tables`` (Flee's CSV conventions),
``settings`` (simsetting.yml) and ``observed`` (source_data/ and Flee's validation spawning);
``convert`` turns a case into a scenario folder (``climdisp import-flee``). Scoring a run
against observations (ARD, out.csv) is :mod:`simulator.interop.validation`, which needs none
of these.
"""

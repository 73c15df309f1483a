"""Orchestration above data and analysis: read the input layers from the store, run the
analysis on them, write the derived layers back and hold what live answers need."""

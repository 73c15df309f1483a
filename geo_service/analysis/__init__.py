"""Analysis: pure functions on GeoDataFrames and arrays (network, distances, coverage)."""

"""OGC API – Features: CRS handling, query parsing, feature encoding and HTML views."""

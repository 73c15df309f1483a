"""Bringing a district's data in: OpenStreetMap extracts and files (GeoJSON, GeoPackage,
Shapefile, KML, FlatGeobuf, CSV, XLSX), as dry runs with a report or committed atomically."""

"""Data: the layer catalog, file formats and stores."""

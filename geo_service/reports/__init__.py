"""Handouts: the coverage report of the district, an area or a scenario, as HTML, PDF and
an Excel workbook (``content`` gathers, ``document``/``pdf``/``workbook`` render,
``render`` picks the format)."""

"""Delivery over HTTP: the FastAPI application and its routers."""

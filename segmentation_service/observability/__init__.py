"""Logs and metrics of the running service: request ids, log formats, Prometheus metrics.

Nothing here imports spyne, SQLAlchemy or the service layers, so the SOAP layer,
the server and the command line can all use it.
"""

"""Segmentation engines: scikit-learn estimators over pandas frames.

Engines import neither spyne nor SQLAlchemy; they raise ``ValueError`` for
input they cannot use and the service layer translates it.
"""

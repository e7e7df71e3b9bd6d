"""Segmentation engines: scikit-learn estimators over pandas frames.

Engines import neither spyne nor SQLAlchemy. For data that cannot support a
fit (too few customers or respondents, no purchases, a model that cannot be
fitted) they raise ``domain.errors.InsufficientData``, a ``ValueError`` whose
message tells the user what is missing; the service layer names the request
field it concerns. Any other exception (a ``ValueError`` for input breaking
an engine's conventions included) is a bug, reported as a server error.
"""

"""The SOAP adapter: spyne types, faults, the service and the WSGI application."""

# Before any spyne import: spyne 2.14 cannot import itself on Python 3.12+ (see the module).
from segmentation_service import spyne_compat

spyne_compat.apply()

"""The SOAP adapter: spyne types, faults, the service and the WSGI application."""

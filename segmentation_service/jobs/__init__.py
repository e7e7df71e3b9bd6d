"""Background execution of runs on huey: the queue the SOAP workers submit to, and the workers.

Layered between the SOAP adapter and the services: it knows the services
(what a run worker executes) and the store's settings, never spyne.
"""

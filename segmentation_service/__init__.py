"""Customer segmentation service: a WSDL-first SOAP service over a customer store."""

__version__ = "0.1.0"

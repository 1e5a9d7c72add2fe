"""Rules of the integration app, one module per concern; import from the module."""

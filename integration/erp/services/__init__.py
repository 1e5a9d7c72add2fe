"""The rules of the ERP contract, one module per subject."""

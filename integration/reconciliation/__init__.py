"""The nightly WIP reconciliation against the ERP (docs/integration.md)."""

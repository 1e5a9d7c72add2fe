"""The ERP contract: work orders and master data in, the outbox and its relay out, the REST
API, the idempotency of its writes and the IT pages about its messages (docs/integration.md).
"""

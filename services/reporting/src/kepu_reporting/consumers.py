"""Event handlers (idempotent through ``kepu_common.consumer``): the tenants read model."""

from __future__ import annotations

from kepu_common import directory

TENANTS_CONSUMER = "reporting.tenants"
TENANT_CHANGED = directory.TENANT_CHANGED

# Keeps the tenants table (names, kinds, tree) in step with the identity service.
handle_identity_event = directory.tenants_handler()

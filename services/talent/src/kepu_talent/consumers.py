"""Event handlers of the talent service (idempotent through ``kepu_common.consumer``)."""

from __future__ import annotations

from kepu_common import directory

CONSUMER = "talent.tenants"
TOPICS = [directory.IDENTITY_TOPIC]
PATH_COLUMN = "path"  # this service's tenants table names its ltree column "path"

# The tenants read model (names, kinds, paths, plus this service's talent_quota column).
on_identity_event = directory.tenants_handler(path_column=PATH_COLUMN)

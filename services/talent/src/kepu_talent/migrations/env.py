from kepu_common.migrations import run_env
from kepu_talent.models import metadata
from kepu_talent.volunteers import models as _volunteer_tables  # noqa: F401  (on metadata)

run_env(metadata)

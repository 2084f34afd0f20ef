from kepu_common.migrations import run_env
from kepu_projects.models import metadata

run_env(metadata)

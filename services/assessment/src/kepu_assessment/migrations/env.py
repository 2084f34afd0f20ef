from kepu_assessment.models import metadata
from kepu_common.migrations import run_env

run_env(metadata)

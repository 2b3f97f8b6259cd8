"""The tables every service has: audit_log, inbox, job_runs, outbox."""
from shared.migrations.frozen.shared_tables_0001 import downgrade, upgrade

revision, down_revision, branch_labels, depends_on = "0001", None, None, None
__all__ = ["upgrade", "downgrade"]

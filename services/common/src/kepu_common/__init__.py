"""Shared mechanisms of Kepu Cloud services (no domain rules live here).

Modules:
    errors     -- the small set of domain error types, mapped once to gRPC and HTTP
    tenancy    -- the verified caller (Principal) and tenant-path helpers
    db         -- engines and the unit of work that sets the RLS tenant scope
    rls        -- SQL for row-level-security policies used by migrations
    outbox     -- the transactional outbox table, writer and relay
    bus        -- Kafka producer/consumer wiring, broker-epoch detection, trace headers
    consumer   -- the idempotent consumer with a dead-letter topic
    auth       -- JWT verification against the issuer's JWKS
    grpcio     -- gRPC server/client bootstrap (health, deadlines, token forwarding)
    telemetry  -- structured logs and OpenTelemetry (a no-op without a collector)
"""

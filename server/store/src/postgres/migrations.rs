//! Schema migrations for the PostgreSQL store, applied in order at open.
//!
//! All pending migrations run in ONE transaction that first takes a transaction-scoped
//! advisory lock, so gateways starting side by side against the same database never race:
//! the second waits, then finds nothing left to do. PostgreSQL DDL is transactional, so a
//! failed migration leaves the schema exactly as it was. Never edit a released migration: add
//! a new one. The tables are created in the first schema of the connection's `search_path`.

use tokio_postgres::Client;

use crate::StoreError;

/// Key of the advisory lock held while migrating (ASCII "hushpay\0").
const MIGRATION_LOCK: i64 = 0x6875_7368_7061_7900;

/// The ordered migrations; index + 1 is the schema version it produces. They mirror the
/// SQLite migrations table for table; `ord` identity columns keep insertion order (SQLite's
/// `rowid`) for "oldest first" listings.
const MIGRATIONS: &[&str] = &[
    // 1: tenants and API keys.
    r#"
    CREATE TABLE tenants (
        ord             BIGINT GENERATED ALWAYS AS IDENTITY,
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,
        created_at      BIGINT NOT NULL,
        allowed_origins TEXT[] NOT NULL
    );
    CREATE TABLE api_keys (
        ord         BIGINT GENERATED ALWAYS AS IDENTITY,
        id          TEXT PRIMARY KEY,
        tenant_id   TEXT NOT NULL REFERENCES tenants(id),
        secret_hash TEXT NOT NULL,
        label       TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        revoked_at  BIGINT
    );
    CREATE INDEX api_keys_by_tenant ON api_keys(tenant_id, ord);
    "#,
    // 2: the vault: wrapped data keys, tokens (ciphertext only), the hash-chained audit log,
    // which the database itself keeps append-only (UPDATE, DELETE and TRUNCATE raise).
    r#"
    CREATE TABLE data_keys (
        tenant_id   TEXT NOT NULL REFERENCES tenants(id),
        version     BIGINT NOT NULL,
        wrapped     BYTEA NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('active', 'retired')),
        created_at  BIGINT NOT NULL,
        invocations BIGINT NOT NULL,
        PRIMARY KEY (tenant_id, version)
    );
    CREATE TABLE tokens (
        id          TEXT PRIMARY KEY,
        tenant_id   TEXT NOT NULL REFERENCES tenants(id),
        brand       TEXT NOT NULL,
        last4       TEXT NOT NULL,
        exp_month   BIGINT NOT NULL,
        exp_year    BIGINT NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at  BIGINT NOT NULL,
        expires_at  BIGINT,
        key_version BIGINT NOT NULL,
        ciphertext  BYTEA NOT NULL
    );
    CREATE INDEX tokens_by_tenant_version ON tokens(tenant_id, key_version);
    CREATE TABLE audit_log (
        seq        BIGINT PRIMARY KEY,
        at         BIGINT NOT NULL,
        tenant_id  TEXT,
        actor      TEXT NOT NULL,
        action     TEXT NOT NULL,
        resource   TEXT NOT NULL,
        outcome    TEXT NOT NULL,
        request_id TEXT NOT NULL,
        prev_hash  TEXT NOT NULL,
        hash       TEXT NOT NULL
    );
    CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit log is append-only'; END
    $$;
    CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
    "#,
    // 3: payment sessions (masked documents), the webhook outbox, endpoints, deliveries.
    r#"
    CREATE TABLE payments (
        id                 TEXT PRIMARY KEY,
        tenant_id          TEXT NOT NULL REFERENCES tenants(id),
        idempotency_key    TEXT,
        request_hash       TEXT NOT NULL,
        state              TEXT NOT NULL,
        document           TEXT NOT NULL,
        client_secret_hash TEXT,
        created_at         BIGINT NOT NULL,
        updated_at         BIGINT NOT NULL,
        version            BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX payments_by_idempotency_key ON payments(tenant_id, idempotency_key);
    CREATE TABLE outbox_events (
        id         TEXT PRIMARY KEY,
        tenant_id  TEXT NOT NULL REFERENCES tenants(id),
        event_type TEXT NOT NULL,
        payload    TEXT NOT NULL,
        created_at BIGINT NOT NULL
    );
    CREATE TABLE webhook_endpoints (
        ord               BIGINT GENERATED ALWAYS AS IDENTITY,
        id                TEXT PRIMARY KEY,
        tenant_id         TEXT NOT NULL REFERENCES tenants(id),
        url               TEXT NOT NULL,
        key_version       BIGINT NOT NULL,
        secret_ciphertext BYTEA NOT NULL,
        created_at        BIGINT NOT NULL,
        deleted_at        BIGINT
    );
    CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints(tenant_id, ord);
    CREATE TABLE webhook_deliveries (
        ord             BIGINT GENERATED ALWAYS AS IDENTITY,
        event_id        TEXT NOT NULL REFERENCES outbox_events(id),
        endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id),
        tenant_id       TEXT NOT NULL,
        attempts        BIGINT NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        next_attempt_at BIGINT,
        PRIMARY KEY (event_id, endpoint_id)
    );
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at, ord);
    CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, status);
    CREATE TABLE webhook_delivery_log (
        seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id        TEXT NOT NULL,
        endpoint_id     TEXT NOT NULL,
        tenant_id       TEXT NOT NULL,
        attempt         BIGINT NOT NULL,
        at              BIGINT NOT NULL,
        status_code     BIGINT,
        error           TEXT,
        status          TEXT NOT NULL,
        next_attempt_at BIGINT
    );
    CREATE INDEX webhook_delivery_log_by_endpoint
        ON webhook_delivery_log(tenant_id, endpoint_id, seq);
    "#,
    // 4: chat transcripts (each message AES-256-GCM encrypted by the gateway).
    r#"
    CREATE TABLE chat_messages (
        ord         BIGINT GENERATED ALWAYS AS IDENTITY,
        tenant_id   TEXT NOT NULL REFERENCES tenants(id),
        room        TEXT NOT NULL,
        id          TEXT NOT NULL,
        at_ms       BIGINT NOT NULL,
        key_version BIGINT NOT NULL,
        ciphertext  BYTEA NOT NULL,
        PRIMARY KEY (tenant_id, id)
    );
    CREATE INDEX chat_messages_by_room ON chat_messages(tenant_id, room, at_ms, ord);
    "#,
    // 5: rooms with their settings (recording consent, when the tenant ended them) and the
    // tenants' recording policy.
    r#"
    ALTER TABLE tenants ADD COLUMN require_consent_by_default BOOLEAN NOT NULL DEFAULT FALSE;
    CREATE TABLE rooms (
        tenant_id                 TEXT NOT NULL REFERENCES tenants(id),
        name                      TEXT NOT NULL,
        created_at                BIGINT NOT NULL,
        require_recording_consent BOOLEAN NOT NULL,
        consent_at                BIGINT,
        ended_at                  BIGINT,
        PRIMARY KEY (tenant_id, name)
    );
    "#,
    // 6: webhook delivery leases: a claim leases a delivery to one node until `lease_until`,
    // so nodes sharing this database send each delivery once; recording its attempt (or the
    // lease running out) ends the lease.
    r#"
    ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT;
    ALTER TABLE webhook_deliveries ADD COLUMN lease_until BIGINT;
    "#,
    // 7: the recording index (containers live in an object store; any node lists, verifies,
    // exports and sweeps them through this), with the retention sweepers' leases.
    r#"
    CREATE TABLE recordings (
        tenant_id        TEXT NOT NULL REFERENCES tenants(id),
        id               TEXT NOT NULL,
        room             TEXT NOT NULL,
        started_at_ms    BIGINT NOT NULL,
        deletion_audited BOOLEAN NOT NULL DEFAULT FALSE,
        lease_owner      TEXT,
        lease_until      BIGINT,
        PRIMARY KEY (tenant_id, id)
    );
    CREATE INDEX recordings_by_room ON recordings(tenant_id, room, started_at_ms);
    CREATE INDEX recordings_by_start ON recordings(started_at_ms);
    "#,
    // 8: the agent desktops allowed to embed the agent console.
    r#"
    ALTER TABLE tenants ADD COLUMN agent_desktop_origins TEXT[] NOT NULL DEFAULT '{}';
    "#,
    // 9 (issue 17): payments expire by a sweeper (their deadline as a column, earlier rows
    // filled from their documents; only open payments indexed), and refunds of payments
    // (inserted under their payment's row lock, so their sum is checked one at a time).
    r#"
    ALTER TABLE payments ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
    UPDATE payments SET expires_at = COALESCE((document::jsonb ->> 'expires_at')::BIGINT, 0);
    CREATE INDEX payments_open_by_expiry ON payments(expires_at)
        WHERE state IN ('requested', 'collecting', 'ready');
    CREATE TABLE refunds (
        ord             BIGINT GENERATED ALWAYS AS IDENTITY,
        id              TEXT PRIMARY KEY,
        tenant_id       TEXT NOT NULL REFERENCES tenants(id),
        payment_id      TEXT NOT NULL REFERENCES payments(id),
        idempotency_key TEXT,
        request_hash    TEXT NOT NULL,
        amount          BIGINT NOT NULL CHECK (amount > 0),
        state           TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
        document        TEXT NOT NULL,
        created_at      BIGINT NOT NULL,
        updated_at      BIGINT NOT NULL
    );
    CREATE UNIQUE INDEX refunds_by_idempotency_key ON refunds(tenant_id, idempotency_key);
    CREATE INDEX refunds_by_payment ON refunds(payment_id, ord);
    "#,
    // 10: FHIR R4 webhooks: what each endpoint receives, and each event's FHIR resource.
    r#"
    ALTER TABLE webhook_endpoints ADD COLUMN format TEXT NOT NULL DEFAULT 'standard-webhooks'
        CHECK (format IN ('standard-webhooks', 'fhir-r4'));
    ALTER TABLE outbox_events ADD COLUMN fhir_payload TEXT;
    "#,
    // 11: the locale of the tenant's payments that name none (NULL: English).
    r#"
    ALTER TABLE tenants ADD COLUMN default_locale TEXT;
    "#,
    // 12 (issue 17): saved cards: the tokens a patient agreed to have charged again, with the
    // tenant's customer reference, the consent time and the deletion time (never the CVC).
    r#"
    CREATE TABLE saved_cards (
        token_id     TEXT PRIMARY KEY REFERENCES tokens(id),
        tenant_id    TEXT NOT NULL REFERENCES tenants(id),
        customer     TEXT NOT NULL,
        consented_at BIGINT NOT NULL,
        deleted_at   BIGINT
    );
    CREATE INDEX saved_cards_by_customer ON saved_cards(tenant_id, customer, consented_at);
    "#,
];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

fn failed(step: &str) -> impl Fn(tokio_postgres::Error) -> StoreError + '_ {
    move |e| StoreError::Migration(format!("{step}: {}", super::error::describe(&e)))
}

/// Brings the schema to [`CURRENT_VERSION`]. Refuses a schema written by a newer build.
pub async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(failed("begin"))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(failed("lock"))?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await
        .map_err(failed("schema_version"))?;
    let version: i64 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await
        .map_err(failed("read version"))?
        .get(0);
    if version > CURRENT_VERSION {
        return Err(StoreError::Migration(format!(
            "database schema version {version} is newer than this build ({CURRENT_VERSION})"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let next = index as i64 + 1;
        tx.batch_execute(sql)
            .await
            .map_err(failed(&format!("migration {next}")))?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&next])
            .await
            .map_err(failed("record version"))?;
    }
    tx.commit().await.map_err(failed("commit"))
}

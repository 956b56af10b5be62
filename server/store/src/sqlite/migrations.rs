//! Schema migrations for the SQLite store, applied in order at open.
//!
//! Each entry runs once, inside one transaction with the `schema_version` bump. Never edit a
//! released migration: add a new one.

use rusqlite::{Connection, params};

use crate::StoreError;

/// The ordered migrations; index + 1 is the schema version it produces.
const MIGRATIONS: &[&str] = &[
    // 1: tenants and API keys.
    r#"
    CREATE TABLE tenants (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,
        created_at      INTEGER NOT NULL,
        allowed_origins TEXT NOT NULL
    ) STRICT;
    CREATE TABLE api_keys (
        id          TEXT PRIMARY KEY,
        tenant_id   TEXT NOT NULL REFERENCES tenants(id),
        secret_hash TEXT NOT NULL,
        label       TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        revoked_at  INTEGER
    ) STRICT;
    CREATE INDEX api_keys_by_tenant ON api_keys(tenant_id, created_at);
    "#,
    // 2: the vault: wrapped data keys, tokens (ciphertext only), the hash-chained audit log.
    r#"
    CREATE TABLE data_keys (
        tenant_id   TEXT NOT NULL REFERENCES tenants(id),
        version     INTEGER NOT NULL,
        wrapped     BLOB NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('active', 'retired')),
        created_at  INTEGER NOT NULL,
        invocations INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, version)
    ) STRICT;
    CREATE TABLE tokens (
        id          TEXT PRIMARY KEY,
        tenant_id   TEXT NOT NULL REFERENCES tenants(id),
        brand       TEXT NOT NULL,
        last4       TEXT NOT NULL,
        exp_month   INTEGER NOT NULL,
        exp_year    INTEGER NOT NULL,
        fingerprint TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER,
        key_version INTEGER NOT NULL,
        ciphertext  BLOB NOT NULL
    ) STRICT;
    CREATE INDEX tokens_by_tenant_version ON tokens(tenant_id, key_version);
    CREATE TABLE audit_log (
        seq        INTEGER PRIMARY KEY,
        at         INTEGER NOT NULL,
        tenant_id  TEXT,
        actor      TEXT NOT NULL,
        action     TEXT NOT NULL,
        resource   TEXT NOT NULL,
        outcome    TEXT NOT NULL,
        request_id TEXT NOT NULL,
        prev_hash  TEXT NOT NULL,
        hash       TEXT NOT NULL
    ) STRICT;
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
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
        created_at         INTEGER NOT NULL,
        updated_at         INTEGER NOT NULL,
        version            INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX payments_by_idempotency_key ON payments(tenant_id, idempotency_key);
    CREATE TABLE outbox_events (
        id         TEXT PRIMARY KEY,
        tenant_id  TEXT NOT NULL REFERENCES tenants(id),
        event_type TEXT NOT NULL,
        payload    TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE webhook_endpoints (
        id                TEXT PRIMARY KEY,
        tenant_id         TEXT NOT NULL REFERENCES tenants(id),
        url               TEXT NOT NULL,
        key_version       INTEGER NOT NULL,
        secret_ciphertext BLOB NOT NULL,
        created_at        INTEGER NOT NULL,
        deleted_at        INTEGER
    ) STRICT;
    CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints(tenant_id);
    CREATE TABLE webhook_deliveries (
        event_id        TEXT NOT NULL REFERENCES outbox_events(id),
        endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id),
        tenant_id       TEXT NOT NULL,
        attempts        INTEGER NOT NULL,
        status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        next_attempt_at INTEGER,
        PRIMARY KEY (event_id, endpoint_id)
    ) STRICT;
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
    CREATE TABLE webhook_delivery_log (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id        TEXT NOT NULL,
        endpoint_id     TEXT NOT NULL,
        tenant_id       TEXT NOT NULL,
        attempt         INTEGER NOT NULL,
        at              INTEGER NOT NULL,
        status_code     INTEGER,
        error           TEXT,
        status          TEXT NOT NULL,
        next_attempt_at INTEGER
    ) STRICT;
    CREATE INDEX webhook_delivery_log_by_endpoint ON webhook_delivery_log(tenant_id, endpoint_id, seq);
    "#,
    // 4: chat transcripts (each message AES-256-GCM encrypted by the gateway).
    r#"
    CREATE TABLE chat_messages (
        tenant_id   TEXT NOT NULL REFERENCES tenants(id),
        room        TEXT NOT NULL,
        id          TEXT NOT NULL,
        at_ms       INTEGER NOT NULL,
        key_version INTEGER NOT NULL,
        ciphertext  BLOB NOT NULL,
        PRIMARY KEY (tenant_id, id)
    ) STRICT;
    CREATE INDEX chat_messages_by_room ON chat_messages(tenant_id, room, at_ms);
    "#,
    // 5: rooms with their settings (recording consent, when the tenant ended them) and the
    // tenants' recording policy.
    r#"
    ALTER TABLE tenants ADD COLUMN require_consent_by_default INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE rooms (
        tenant_id                 TEXT NOT NULL REFERENCES tenants(id),
        name                      TEXT NOT NULL,
        created_at                INTEGER NOT NULL,
        require_recording_consent INTEGER NOT NULL CHECK (require_recording_consent IN (0, 1)),
        consent_at                INTEGER,
        ended_at                  INTEGER,
        PRIMARY KEY (tenant_id, name)
    ) STRICT;
    "#,
    // 6: webhook delivery leases (the PostgreSQL contract; one node here, same rules).
    r#"
    ALTER TABLE webhook_deliveries ADD COLUMN lease_owner TEXT;
    ALTER TABLE webhook_deliveries ADD COLUMN lease_until INTEGER;
    "#,
    // 7: the recording index, with the retention sweepers' leases (the PostgreSQL contract).
    r#"
    CREATE TABLE recordings (
        tenant_id        TEXT NOT NULL REFERENCES tenants(id),
        id               TEXT NOT NULL,
        room             TEXT NOT NULL,
        started_at_ms    INTEGER NOT NULL,
        deletion_audited INTEGER NOT NULL DEFAULT 0 CHECK (deletion_audited IN (0, 1)),
        lease_owner      TEXT,
        lease_until      INTEGER,
        PRIMARY KEY (tenant_id, id)
    ) STRICT;
    CREATE INDEX recordings_by_room ON recordings(tenant_id, room, started_at_ms);
    CREATE INDEX recordings_by_start ON recordings(started_at_ms);
    "#,
    // 8: the agent desktops allowed to embed the agent console (newline-separated origins).
    r#"
    ALTER TABLE tenants ADD COLUMN agent_desktop_origins TEXT NOT NULL DEFAULT '';
    "#,
    // 9 (issue 17): payments expire by a sweeper (their deadline as a column, earlier rows
    // filled from their documents; only open payments indexed), and refunds of payments.
    r#"
    ALTER TABLE payments ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
    UPDATE payments SET expires_at = COALESCE(json_extract(document, '$.expires_at'), 0);
    CREATE INDEX payments_open_by_expiry ON payments(expires_at)
        WHERE state IN ('requested', 'collecting', 'ready');
    CREATE TABLE refunds (
        id              TEXT PRIMARY KEY,
        tenant_id       TEXT NOT NULL REFERENCES tenants(id),
        payment_id      TEXT NOT NULL REFERENCES payments(id),
        idempotency_key TEXT,
        request_hash    TEXT NOT NULL,
        amount          INTEGER NOT NULL CHECK (amount > 0),
        state           TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed')),
        document        TEXT NOT NULL,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX refunds_by_idempotency_key ON refunds(tenant_id, idempotency_key);
    CREATE INDEX refunds_by_payment ON refunds(payment_id);
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
        consented_at INTEGER NOT NULL,
        deleted_at   INTEGER
    ) STRICT;
    CREATE INDEX saved_cards_by_customer ON saved_cards(tenant_id, customer, consented_at);
    "#,
];

/// The schema version this build writes.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database to [`CURRENT_VERSION`]. Refuses a database written by a newer build.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    migrate_to(conn, CURRENT_VERSION)
}

/// Brings the database to `target` (tests build older schemas with it).
pub(super) fn migrate_to(conn: &mut Connection, target: i64) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT;",
    )
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    let version: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    if version > CURRENT_VERSION {
        return Err(StoreError::Migration(format!(
            "database schema version {version} is newer than this build ({CURRENT_VERSION})"
        )));
    }
    let pending = MIGRATIONS.iter().enumerate().skip(version as usize);
    for (index, sql) in pending.take(usize::try_from(target - version).unwrap_or(0)) {
        let next = index as i64 + 1;
        let tx = conn
            .transaction()
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        tx.execute_batch(sql)
            .map_err(|e| StoreError::Migration(format!("migration {next}: {e}")))?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            params![next],
        )
        .map_err(|e| StoreError::Migration(e.to_string()))?;
        tx.commit()
            .map_err(|e| StoreError::Migration(e.to_string()))?;
    }
    Ok(())
}

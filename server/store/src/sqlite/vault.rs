//! The vault's tables: data keys, tokens, the audit log. Plain functions over a connection,
//! with the [`crate::VaultStore`] impl that calls them.

use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::{
    AuditChainer, AuditRecord, DataKeyRecord, DataKeyState, OutboxEvent, SavedCardRecord,
    StoreError, TenantId, TokenRecord, UnixTime, VaultStore,
};

const DATA_KEY_COLUMNS: &str = "tenant_id, version, wrapped, state, created_at, invocations";
const TOKEN_COLUMNS: &str = "id, tenant_id, brand, last4, exp_month, exp_year, fingerprint, \
                             created_at, expires_at, key_version, ciphertext";
const AUDIT_COLUMNS: &str =
    "seq, at, tenant_id, actor, action, resource, outcome, request_id, prev_hash, hash";

fn corrupt(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, what.to_owned(), rusqlite::types::Type::Text)
}

fn data_key_from_row(row: &Row<'_>) -> rusqlite::Result<DataKeyRecord> {
    let state: String = row.get(3)?;
    let invocations: i64 = row.get(5)?;
    Ok(DataKeyRecord {
        tenant: TenantId::new(row.get::<_, String>(0)?),
        version: row.get(1)?,
        wrapped: row.get(2)?,
        state: DataKeyState::parse(&state).ok_or_else(|| corrupt("state"))?,
        created_at: row.get(4)?,
        invocations: u64::try_from(invocations).map_err(|_| corrupt("invocations"))?,
    })
}

fn token_from_row(row: &Row<'_>) -> rusqlite::Result<TokenRecord> {
    Ok(TokenRecord {
        id: row.get(0)?,
        tenant: TenantId::new(row.get::<_, String>(1)?),
        brand: row.get(2)?,
        last4: row.get(3)?,
        exp_month: row.get(4)?,
        exp_year: row.get(5)?,
        fingerprint: row.get(6)?,
        created_at: row.get(7)?,
        expires_at: row.get(8)?,
        key_version: row.get(9)?,
        ciphertext: row.get(10)?,
    })
}

fn audit_from_row(row: &Row<'_>) -> rusqlite::Result<AuditRecord> {
    let seq: i64 = row.get(0)?;
    Ok(AuditRecord {
        seq: u64::try_from(seq).map_err(|_| corrupt("seq"))?,
        at: row.get(1)?,
        tenant: row.get::<_, Option<String>>(2)?.map(TenantId::new),
        actor: row.get(3)?,
        action: row.get(4)?,
        resource: row.get(5)?,
        outcome: row.get(6)?,
        request_id: row.get(7)?,
        prev_hash: row.get(8)?,
        hash: row.get(9)?,
    })
}

fn to_i64(n: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} out of range")))
}

pub(super) fn insert_data_key(c: &mut Connection, k: &DataKeyRecord) -> Result<(), StoreError> {
    c.execute(
        &format!("INSERT INTO data_keys ({DATA_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            k.tenant.as_str(),
            k.version,
            k.wrapped,
            k.state.as_str(),
            k.created_at,
            to_i64(k.invocations, "invocations")?
        ],
    )?;
    Ok(())
}

pub(super) fn data_keys(
    c: &mut Connection,
    tenant: &TenantId,
) -> Result<Vec<DataKeyRecord>, StoreError> {
    let sql =
        format!("SELECT {DATA_KEY_COLUMNS} FROM data_keys WHERE tenant_id = ?1 ORDER BY version");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![tenant.as_str()], data_key_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn retire_data_key(
    c: &mut Connection,
    tenant: &TenantId,
    version: u32,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "UPDATE data_keys SET state = 'retired' WHERE tenant_id = ?1 AND version = ?2",
        params![tenant.as_str(), version],
    )?;
    Ok(n == 1)
}

pub(super) fn reserve_key_invocations(
    c: &mut Connection,
    tenant: &TenantId,
    version: u32,
    count: u64,
) -> Result<Option<u64>, StoreError> {
    let count = to_i64(count, "count")?;
    let total: Option<i64> = c
        .query_row(
            "UPDATE data_keys SET invocations = invocations + ?3
             WHERE tenant_id = ?1 AND version = ?2 RETURNING invocations",
            params![tenant.as_str(), version, count],
            |r| r.get(0),
        )
        .optional()?;
    total
        .map(|t| u64::try_from(t).map_err(|_| StoreError::Corrupt("invocations".into())))
        .transpose()
}

pub(super) fn insert_tokens(c: &mut Connection, tokens: &[TokenRecord]) -> Result<(), StoreError> {
    insert_tokens_audited(c, tokens, &[])
}

/// Tokens and audit entries in one transaction: one `fsync` of the WAL for the whole batch.
pub(super) fn insert_tokens_audited(
    c: &mut Connection,
    tokens: &[TokenRecord],
    audit: &[AuditRecord],
) -> Result<(), StoreError> {
    let tx = c.transaction()?;
    insert_in(&tx, tokens, audit)?;
    tx.commit()?;
    Ok(())
}

/// Like [`insert_tokens_audited`], with the entries built from the head read inside an
/// `IMMEDIATE` transaction: the database's write lock is held from the read to the commit, so
/// another process on the same file (the admin CLI beside a gateway) waits instead of forking
/// the chain.
pub(super) fn insert_tokens_chained(
    c: &mut Connection,
    tokens: &[TokenRecord],
    events: &[OutboxEvent],
    chain: &AuditChainer,
) -> Result<Vec<AuditRecord>, StoreError> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let head = last_audit(&tx)?;
    let audit = chain(head.as_ref());
    insert_in(&tx, tokens, &audit)?;
    super::payments::enqueue(&tx, events)?;
    tx.commit()?;
    Ok(audit)
}

fn insert_in(
    tx: &Connection,
    tokens: &[TokenRecord],
    audit: &[AuditRecord],
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO tokens ({TOKEN_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?;
    for t in tokens {
        stmt.execute(params![
            t.id,
            t.tenant.as_str(),
            t.brand,
            t.last4,
            t.exp_month,
            t.exp_year,
            t.fingerprint,
            t.created_at,
            t.expires_at,
            t.key_version,
            t.ciphertext
        ])?;
    }
    for e in audit {
        append_audit(tx, e)?;
    }
    Ok(())
}

pub(super) fn token(
    c: &mut Connection,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<TokenRecord>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = ?1 AND tenant_id = ?2");
    let mut stmt = c.prepare_cached(&sql)?;
    Ok(stmt
        .query_row(params![id, tenant.as_str()], token_from_row)
        .optional()?)
}

pub(super) fn tokens_below_key_version(
    c: &mut Connection,
    tenant: &TenantId,
    version: u32,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT id FROM tokens WHERE tenant_id = ?1 AND key_version < ?2 ORDER BY id LIMIT ?3",
    )?;
    let limit = to_i64(limit as u64, "limit")?;
    let rows = stmt.query_map(params![tenant.as_str(), version, limit], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn rewrap_token(
    c: &mut Connection,
    tenant: &TenantId,
    id: &str,
    old_version: u32,
    new_version: u32,
    ciphertext: &[u8],
) -> Result<bool, StoreError> {
    let n = c.execute(
        "UPDATE tokens SET key_version = ?4, ciphertext = ?5
         WHERE id = ?1 AND tenant_id = ?2 AND key_version = ?3",
        params![id, tenant.as_str(), old_version, new_version, ciphertext],
    )?;
    Ok(n == 1)
}

const SAVED_CARD_COLUMNS: &str = "tenant_id, token_id, customer, consented_at, deleted_at";

fn saved_card_from_row(row: &Row<'_>) -> rusqlite::Result<SavedCardRecord> {
    Ok(SavedCardRecord {
        tenant: TenantId::new(row.get::<_, String>(0)?),
        token: row.get(1)?,
        customer: row.get(2)?,
        consented_at: row.get(3)?,
        deleted_at: row.get(4)?,
    })
}

/// Inserts only when the token exists and is the record's tenant's.
pub(super) fn insert_saved_card(c: &mut Connection, k: &SavedCardRecord) -> Result<(), StoreError> {
    let n = c.execute(
        &format!(
            "INSERT INTO saved_cards ({SAVED_CARD_COLUMNS})
             SELECT tenant_id, id, ?3, ?4, ?5 FROM tokens WHERE id = ?2 AND tenant_id = ?1"
        ),
        params![
            k.tenant.as_str(),
            k.token,
            k.customer,
            k.consented_at,
            k.deleted_at
        ],
    )?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("no token {}", k.token)));
    }
    Ok(())
}

pub(super) fn saved_card(
    c: &mut Connection,
    tenant: &TenantId,
    token: &str,
) -> Result<Option<SavedCardRecord>, StoreError> {
    let sql = format!(
        "SELECT {SAVED_CARD_COLUMNS} FROM saved_cards WHERE token_id = ?1 AND tenant_id = ?2"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    Ok(stmt
        .query_row(params![token, tenant.as_str()], saved_card_from_row)
        .optional()?)
}

pub(super) fn delete_saved_card(
    c: &mut Connection,
    tenant: &TenantId,
    token: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "UPDATE saved_cards SET deleted_at = ?3
         WHERE token_id = ?1 AND tenant_id = ?2 AND deleted_at IS NULL",
        params![token, tenant.as_str(), at],
    )?;
    Ok(n == 1)
}

pub(super) fn saved_cards(
    c: &mut Connection,
    tenant: &TenantId,
    customer: &str,
) -> Result<Vec<SavedCardRecord>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SAVED_CARD_COLUMNS} FROM saved_cards
         WHERE tenant_id = ?1 AND customer = ?2 AND deleted_at IS NULL
         ORDER BY consented_at, token_id"
    ))?;
    let rows = stmt.query_map(params![tenant.as_str(), customer], saved_card_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn append_audit(c: &Connection, e: &AuditRecord) -> Result<(), StoreError> {
    c.prepare_cached(&format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    ))?
    .execute(params![
        to_i64(e.seq, "seq")?,
        e.at,
        e.tenant.as_ref().map(TenantId::as_str),
        e.actor,
        e.action,
        e.resource,
        e.outcome,
        e.request_id,
        e.prev_hash,
        e.hash
    ])?;
    Ok(())
}

pub(super) fn audit_entries(
    c: &mut Connection,
    after: u64,
    limit: usize,
) -> Result<Vec<AuditRecord>, StoreError> {
    let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![to_i64(after, "after")?, to_i64(limit as u64, "limit")?],
        audit_from_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn last_audit(c: &Connection) -> Result<Option<AuditRecord>, StoreError> {
    let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1");
    Ok(c.query_row(&sql, [], audit_from_row).optional()?)
}

#[async_trait]
impl VaultStore for SqliteStore {
    async fn insert_data_key(&self, key: &DataKeyRecord) -> Result<(), StoreError> {
        let k = key.clone();
        self.with(move |c| insert_data_key(c, &k)).await
    }

    async fn data_keys(&self, tenant: &TenantId) -> Result<Vec<DataKeyRecord>, StoreError> {
        let t = tenant.clone();
        self.with(move |c| data_keys(c, &t)).await
    }

    async fn retire_data_key(&self, tenant: &TenantId, version: u32) -> Result<bool, StoreError> {
        let t = tenant.clone();
        self.with(move |c| retire_data_key(c, &t, version)).await
    }

    async fn reserve_key_invocations(
        &self,
        tenant: &TenantId,
        version: u32,
        count: u64,
    ) -> Result<Option<u64>, StoreError> {
        let t = tenant.clone();
        self.with(move |c| reserve_key_invocations(c, &t, version, count))
            .await
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        let t = token.clone();
        self.with(move |c| insert_tokens(c, std::slice::from_ref(&t)))
            .await
    }

    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
        let t = tokens.to_vec();
        self.with(move |c| insert_tokens(c, &t)).await
    }

    async fn insert_tokens_audited(
        &self,
        tokens: &[TokenRecord],
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let (t, a) = (tokens.to_vec(), audit.to_vec());
        self.with(move |c| insert_tokens_audited(c, &t, &a)).await
    }

    async fn insert_tokens_chained(
        &self,
        tokens: &[TokenRecord],
        events: &[OutboxEvent],
        chain: Arc<AuditChainer>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let (t, e) = (tokens.to_vec(), events.to_vec());
        self.with(move |c| insert_tokens_chained(c, &t, &e, chain.as_ref()))
            .await
    }

    async fn token(&self, tenant: &TenantId, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        let (t, id) = (tenant.clone(), id.to_owned());
        self.with(move |c| token(c, &t, &id)).await
    }

    async fn tokens_below_key_version(
        &self,
        tenant: &TenantId,
        version: u32,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let t = tenant.clone();
        self.with(move |c| tokens_below_key_version(c, &t, version, limit))
            .await
    }

    async fn rewrap_token(
        &self,
        tenant: &TenantId,
        id: &str,
        old_version: u32,
        new_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError> {
        let (t, id, ct) = (tenant.clone(), id.to_owned(), ciphertext.to_vec());
        self.with(move |c| rewrap_token(c, &t, &id, old_version, new_version, &ct))
            .await
    }

    async fn append_audit(&self, entry: &AuditRecord) -> Result<(), StoreError> {
        let e = entry.clone();
        self.with(move |c| append_audit(c, &e)).await
    }

    async fn audit_entries(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.with(move |c| audit_entries(c, after, limit)).await
    }

    async fn last_audit(&self) -> Result<Option<AuditRecord>, StoreError> {
        self.with(|c| last_audit(c)).await
    }

    async fn insert_saved_card(&self, card: &SavedCardRecord) -> Result<(), StoreError> {
        let k = card.clone();
        self.with(move |c| insert_saved_card(c, &k)).await
    }

    async fn saved_card(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<SavedCardRecord>, StoreError> {
        let (t, id) = (tenant.clone(), token.to_owned());
        self.with(move |c| saved_card(c, &t, &id)).await
    }

    async fn delete_saved_card(
        &self,
        tenant: &TenantId,
        token: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let (t, id) = (tenant.clone(), token.to_owned());
        self.with(move |c| delete_saved_card(c, &t, &id, at)).await
    }

    async fn saved_cards(
        &self,
        tenant: &TenantId,
        customer: &str,
    ) -> Result<Vec<SavedCardRecord>, StoreError> {
        let (t, who) = (tenant.clone(), customer.to_owned());
        self.with(move |c| saved_cards(c, &t, &who)).await
    }
}

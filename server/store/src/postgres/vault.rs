//! The vault's tables on PostgreSQL: data keys, tokens, the audit log. Functions over the
//! store's pool, with the [`crate::VaultStore`] impl that calls them. Integers are `BIGINT`
//! columns; conversions to the records' unsigned types are checked both ways.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgStore;
use super::convert::{Param, to_i64, unsigned};
use crate::{
    AuditChainer, AuditRecord, DataKeyRecord, DataKeyState, OutboxEvent, SavedCardRecord,
    StoreError, TenantId, TokenRecord, UnixTime, VaultStore,
};

const DATA_KEY_COLUMNS: &str = "tenant_id, version, wrapped, state, created_at, invocations";
const TOKEN_COLUMNS: &str = "id, tenant_id, brand, last4, exp_month, exp_year, fingerprint, \
                             created_at, expires_at, key_version, ciphertext";
const AUDIT_COLUMNS: &str =
    "seq, at, tenant_id, actor, action, resource, outcome, request_id, prev_hash, hash";

fn data_key_from_row(row: &Row) -> Result<DataKeyRecord, StoreError> {
    let state: String = row.try_get(3)?;
    Ok(DataKeyRecord {
        tenant: TenantId::new(row.try_get::<_, String>(0)?),
        version: unsigned(row, 1, "version")?,
        wrapped: row.try_get(2)?,
        state: DataKeyState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt("data key state".into()))?,
        created_at: row.try_get(4)?,
        invocations: unsigned(row, 5, "invocations")?,
    })
}

fn token_from_row(row: &Row) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: row.try_get(0)?,
        tenant: TenantId::new(row.try_get::<_, String>(1)?),
        brand: row.try_get(2)?,
        last4: row.try_get(3)?,
        exp_month: unsigned(row, 4, "exp_month")?,
        exp_year: unsigned(row, 5, "exp_year")?,
        fingerprint: row.try_get(6)?,
        created_at: row.try_get(7)?,
        expires_at: row.try_get(8)?,
        key_version: unsigned(row, 9, "key_version")?,
        ciphertext: row.try_get(10)?,
    })
}

fn audit_from_row(row: &Row) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: unsigned(row, 0, "seq")?,
        at: row.try_get(1)?,
        tenant: row.try_get::<_, Option<String>>(2)?.map(TenantId::new),
        actor: row.try_get(3)?,
        action: row.try_get(4)?,
        resource: row.try_get(5)?,
        outcome: row.try_get(6)?,
        request_id: row.try_get(7)?,
        prev_hash: row.try_get(8)?,
        hash: row.try_get(9)?,
    })
}

pub(super) async fn insert_data_key(s: &PgStore, k: &DataKeyRecord) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO data_keys ({DATA_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
    let params: [Param<'_>; 6] = [
        &k.tenant.as_str(),
        &i64::from(k.version),
        &k.wrapped,
        &k.state.as_str(),
        &k.created_at,
        &to_i64(k.invocations, "invocations")?,
    ];
    s.execute(&sql, &params).await.map(drop)
}

pub(super) async fn data_keys(
    s: &PgStore,
    tenant: &TenantId,
) -> Result<Vec<DataKeyRecord>, StoreError> {
    let sql =
        format!("SELECT {DATA_KEY_COLUMNS} FROM data_keys WHERE tenant_id = $1 ORDER BY version");
    let rows = s.query(&sql, &[&tenant.as_str()]).await?;
    super::all(&rows, data_key_from_row)
}

pub(super) async fn retire_data_key(
    s: &PgStore,
    tenant: &TenantId,
    version: u32,
) -> Result<bool, StoreError> {
    let n = s
        .execute(
            "UPDATE data_keys SET state = 'retired' WHERE tenant_id = $1 AND version = $2",
            &[&tenant.as_str(), &i64::from(version)],
        )
        .await?;
    Ok(n == 1)
}

pub(super) async fn reserve_key_invocations(
    s: &PgStore,
    tenant: &TenantId,
    version: u32,
    count: u64,
) -> Result<Option<u64>, StoreError> {
    let rows = s
        .query(
            "UPDATE data_keys SET invocations = invocations + $3
             WHERE tenant_id = $1 AND version = $2 RETURNING invocations",
            &[
                &tenant.as_str(),
                &i64::from(version),
                &to_i64(count, "count")?,
            ],
        )
        .await?;
    rows.first()
        .map(|r| unsigned(r, 0, "invocations"))
        .transpose()
}

/// The tokens as one array per column, for a single `INSERT ... SELECT FROM UNNEST(...)`
/// statement: one round trip and all-or-nothing for any batch size.
struct TokenColumns {
    ids: Vec<String>,
    tenants: Vec<String>,
    brands: Vec<String>,
    last4s: Vec<String>,
    exp_months: Vec<i64>,
    exp_years: Vec<i64>,
    fingerprints: Vec<String>,
    created: Vec<i64>,
    expires: Vec<Option<i64>>,
    versions: Vec<i64>,
    ciphertexts: Vec<Vec<u8>>,
}

impl TokenColumns {
    fn new(tokens: &[TokenRecord]) -> TokenColumns {
        TokenColumns {
            ids: tokens.iter().map(|t| t.id.clone()).collect(),
            tenants: tokens.iter().map(|t| t.tenant.to_string()).collect(),
            brands: tokens.iter().map(|t| t.brand.clone()).collect(),
            last4s: tokens.iter().map(|t| t.last4.clone()).collect(),
            exp_months: tokens.iter().map(|t| i64::from(t.exp_month)).collect(),
            exp_years: tokens.iter().map(|t| i64::from(t.exp_year)).collect(),
            fingerprints: tokens.iter().map(|t| t.fingerprint.clone()).collect(),
            created: tokens.iter().map(|t| t.created_at).collect(),
            expires: tokens.iter().map(|t| t.expires_at).collect(),
            versions: tokens.iter().map(|t| i64::from(t.key_version)).collect(),
            ciphertexts: tokens.iter().map(|t| t.ciphertext.clone()).collect(),
        }
    }

    fn params(&self) -> [Param<'_>; 11] {
        [
            &self.ids,
            &self.tenants,
            &self.brands,
            &self.last4s,
            &self.exp_months,
            &self.exp_years,
            &self.fingerprints,
            &self.created,
            &self.expires,
            &self.versions,
            &self.ciphertexts,
        ]
    }
}

/// The audit entries as one array per column, like [`TokenColumns`].
struct AuditColumns {
    seqs: Vec<i64>,
    ats: Vec<i64>,
    tenants: Vec<Option<String>>,
    actors: Vec<String>,
    actions: Vec<String>,
    resources: Vec<String>,
    outcomes: Vec<String>,
    request_ids: Vec<String>,
    prev_hashes: Vec<String>,
    hashes: Vec<String>,
}

impl AuditColumns {
    fn new(entries: &[AuditRecord]) -> Result<AuditColumns, StoreError> {
        Ok(AuditColumns {
            seqs: entries
                .iter()
                .map(|e| to_i64(e.seq, "seq"))
                .collect::<Result<_, _>>()?,
            ats: entries.iter().map(|e| e.at).collect(),
            tenants: entries
                .iter()
                .map(|e| e.tenant.as_ref().map(TenantId::to_string))
                .collect(),
            actors: entries.iter().map(|e| e.actor.clone()).collect(),
            actions: entries.iter().map(|e| e.action.clone()).collect(),
            resources: entries.iter().map(|e| e.resource.clone()).collect(),
            outcomes: entries.iter().map(|e| e.outcome.clone()).collect(),
            request_ids: entries.iter().map(|e| e.request_id.clone()).collect(),
            prev_hashes: entries.iter().map(|e| e.prev_hash.clone()).collect(),
            hashes: entries.iter().map(|e| e.hash.clone()).collect(),
        })
    }

    fn params(&self) -> [Param<'_>; 10] {
        [
            &self.seqs,
            &self.ats,
            &self.tenants,
            &self.actors,
            &self.actions,
            &self.resources,
            &self.outcomes,
            &self.request_ids,
            &self.prev_hashes,
            &self.hashes,
        ]
    }
}

pub(super) async fn insert_tokens(s: &PgStore, tokens: &[TokenRecord]) -> Result<(), StoreError> {
    insert_tokens_audited(s, tokens, &[]).await
}

/// Tokens and audit entries in ONE statement (a data-modifying CTE feeding nothing): atomic
/// without `BEGIN`/`COMMIT`, one round trip and one WAL flush for the whole batch.
pub(super) async fn insert_tokens_audited(
    s: &PgStore,
    tokens: &[TokenRecord],
    audit: &[AuditRecord],
) -> Result<(), StoreError> {
    if tokens.is_empty() && audit.is_empty() {
        return Ok(());
    }
    let (token_columns, audit_columns) = (TokenColumns::new(tokens), AuditColumns::new(audit)?);
    let mut params: Vec<Param<'_>> = token_columns.params().to_vec();
    params.extend(audit_columns.params());
    s.execute(&insert_tokens_audited_sql(), &params)
        .await
        .map(drop)
}

fn insert_tokens_audited_sql() -> String {
    format!(
        "WITH new_tokens AS (
             INSERT INTO tokens ({TOKEN_COLUMNS})
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[],
                                  $6::int8[], $7::text[], $8::int8[], $9::int8[], $10::int8[],
                                  $11::bytea[])
         )
         INSERT INTO audit_log ({AUDIT_COLUMNS})
         SELECT * FROM UNNEST($12::int8[], $13::int8[], $14::text[], $15::text[], $16::text[],
                              $17::text[], $18::text[], $19::text[], $20::text[], $21::text[])"
    )
}

/// The chain's head is held by locking `audit_log` in SHARE ROW EXCLUSIVE mode for the
/// transaction: it conflicts with itself and with every INSERT (ROW EXCLUSIVE), not with
/// reads, so appends from all gateways on this schema queue here while `hushpay audit verify`
/// and readers go on. The lock is scoped to the schema's table (unlike an advisory lock, which
/// is database-wide) and ends with the transaction, also when a connection dies.
pub(super) async fn insert_tokens_chained(
    s: &PgStore,
    tokens: &[TokenRecord],
    events: &[OutboxEvent],
    chain: &AuditChainer,
) -> Result<Vec<AuditRecord>, StoreError> {
    let mut client = s.client().await?;
    let tx = client.transaction().await?;
    tx.batch_execute("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
        .await?;
    let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1");
    let head = super::first(&tx.query(&sql, &[]).await?, audit_from_row)?;
    let audit = chain(head.as_ref());
    if !(tokens.is_empty() && audit.is_empty()) {
        let (token_columns, audit_columns) =
            (TokenColumns::new(tokens), AuditColumns::new(&audit)?);
        let mut params: Vec<Param<'_>> = token_columns.params().to_vec();
        params.extend(audit_columns.params());
        let stmt = tx.prepare_cached(&insert_tokens_audited_sql()).await?;
        tx.execute(&stmt, &params).await?;
    }
    if !events.is_empty() {
        super::payments::enqueue(&*tx, events).await?;
    }
    tx.commit().await?;
    Ok(audit)
}

pub(super) async fn token(
    s: &PgStore,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<TokenRecord>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE id = $1 AND tenant_id = $2");
    let rows = s.query(&sql, &[&id, &tenant.as_str()]).await?;
    super::first(&rows, token_from_row)
}

pub(super) async fn tokens_below_key_version(
    s: &PgStore,
    tenant: &TenantId,
    version: u32,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let rows = s
        .query(
            "SELECT id FROM tokens WHERE tenant_id = $1 AND key_version < $2 ORDER BY id LIMIT $3",
            &[
                &tenant.as_str(),
                &i64::from(version),
                &to_i64(limit as u64, "limit")?,
            ],
        )
        .await?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(StoreError::from))
        .collect()
}

pub(super) async fn rewrap_token(
    s: &PgStore,
    tenant: &TenantId,
    id: &str,
    old_version: u32,
    new_version: u32,
    ciphertext: &[u8],
) -> Result<bool, StoreError> {
    let n = s
        .execute(
            "UPDATE tokens SET key_version = $4, ciphertext = $5
             WHERE id = $1 AND tenant_id = $2 AND key_version = $3",
            &[
                &id,
                &tenant.as_str(),
                &i64::from(old_version),
                &i64::from(new_version),
                &ciphertext,
            ],
        )
        .await?;
    Ok(n == 1)
}

const SAVED_CARD_COLUMNS: &str = "tenant_id, token_id, customer, consented_at, deleted_at";

fn saved_card_from_row(row: &Row) -> Result<SavedCardRecord, StoreError> {
    Ok(SavedCardRecord {
        tenant: TenantId::new(row.try_get::<_, String>(0)?),
        token: row.try_get(1)?,
        customer: row.try_get(2)?,
        consented_at: row.try_get(3)?,
        deleted_at: row.try_get(4)?,
    })
}

/// Inserts only when the token exists and is the record's tenant's.
pub(super) async fn insert_saved_card(s: &PgStore, k: &SavedCardRecord) -> Result<(), StoreError> {
    let n = s
        .execute(
            &format!(
                "INSERT INTO saved_cards ({SAVED_CARD_COLUMNS})
                 SELECT tenant_id, id, $3, $4, $5 FROM tokens WHERE id = $2 AND tenant_id = $1"
            ),
            &[
                &k.tenant.as_str(),
                &k.token,
                &k.customer,
                &k.consented_at,
                &k.deleted_at,
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("no token {}", k.token)));
    }
    Ok(())
}

pub(super) async fn saved_card(
    s: &PgStore,
    tenant: &TenantId,
    token: &str,
) -> Result<Option<SavedCardRecord>, StoreError> {
    let sql = format!(
        "SELECT {SAVED_CARD_COLUMNS} FROM saved_cards WHERE token_id = $1 AND tenant_id = $2"
    );
    let rows = s.query(&sql, &[&token, &tenant.as_str()]).await?;
    super::first(&rows, saved_card_from_row)
}

pub(super) async fn delete_saved_card(
    s: &PgStore,
    tenant: &TenantId,
    token: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let n = s
        .execute(
            "UPDATE saved_cards SET deleted_at = $3
             WHERE token_id = $1 AND tenant_id = $2 AND deleted_at IS NULL",
            &[&token, &tenant.as_str(), &at],
        )
        .await?;
    Ok(n == 1)
}

pub(super) async fn saved_cards(
    s: &PgStore,
    tenant: &TenantId,
    customer: &str,
) -> Result<Vec<SavedCardRecord>, StoreError> {
    let rows = s
        .query(
            &format!(
                "SELECT {SAVED_CARD_COLUMNS} FROM saved_cards
                 WHERE tenant_id = $1 AND customer = $2 AND deleted_at IS NULL
                 ORDER BY consented_at, token_id"
            ),
            &[&tenant.as_str(), &customer],
        )
        .await?;
    rows.iter().map(saved_card_from_row).collect()
}

pub(super) async fn append_audit(s: &PgStore, e: &AuditRecord) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO audit_log ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    let params: [Param<'_>; 10] = [
        &to_i64(e.seq, "seq")?,
        &e.at,
        &e.tenant.as_ref().map(TenantId::as_str),
        &e.actor,
        &e.action,
        &e.resource,
        &e.outcome,
        &e.request_id,
        &e.prev_hash,
        &e.hash,
    ];
    s.execute(&sql, &params).await.map(drop)
}

pub(super) async fn audit_entries(
    s: &PgStore,
    after: u64,
    limit: usize,
) -> Result<Vec<AuditRecord>, StoreError> {
    let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    let rows = s
        .query(
            &sql,
            &[&to_i64(after, "after")?, &to_i64(limit as u64, "limit")?],
        )
        .await?;
    super::all(&rows, audit_from_row)
}

pub(super) async fn last_audit(s: &PgStore) -> Result<Option<AuditRecord>, StoreError> {
    let sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1");
    super::first(&s.query(&sql, &[]).await?, audit_from_row)
}

#[async_trait]
impl VaultStore for PgStore {
    async fn insert_data_key(&self, key: &DataKeyRecord) -> Result<(), StoreError> {
        insert_data_key(self, key).await
    }

    async fn data_keys(&self, tenant: &TenantId) -> Result<Vec<DataKeyRecord>, StoreError> {
        data_keys(self, tenant).await
    }

    async fn retire_data_key(&self, tenant: &TenantId, version: u32) -> Result<bool, StoreError> {
        retire_data_key(self, tenant, version).await
    }

    async fn reserve_key_invocations(
        &self,
        tenant: &TenantId,
        version: u32,
        count: u64,
    ) -> Result<Option<u64>, StoreError> {
        reserve_key_invocations(self, tenant, version, count).await
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        insert_tokens(self, std::slice::from_ref(token)).await
    }

    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
        insert_tokens(self, tokens).await
    }

    async fn insert_tokens_audited(
        &self,
        tokens: &[TokenRecord],
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        insert_tokens_audited(self, tokens, audit).await
    }

    async fn insert_tokens_chained(
        &self,
        tokens: &[TokenRecord],
        events: &[OutboxEvent],
        chain: Arc<AuditChainer>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        insert_tokens_chained(self, tokens, events, chain.as_ref()).await
    }

    async fn token(&self, tenant: &TenantId, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        token(self, tenant, id).await
    }

    async fn tokens_below_key_version(
        &self,
        tenant: &TenantId,
        version: u32,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        tokens_below_key_version(self, tenant, version, limit).await
    }

    async fn rewrap_token(
        &self,
        tenant: &TenantId,
        id: &str,
        old_version: u32,
        new_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError> {
        rewrap_token(self, tenant, id, old_version, new_version, ciphertext).await
    }

    async fn append_audit(&self, entry: &AuditRecord) -> Result<(), StoreError> {
        append_audit(self, entry).await
    }

    async fn audit_entries(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        audit_entries(self, after, limit).await
    }

    async fn last_audit(&self) -> Result<Option<AuditRecord>, StoreError> {
        last_audit(self).await
    }

    async fn insert_saved_card(&self, card: &SavedCardRecord) -> Result<(), StoreError> {
        insert_saved_card(self, card).await
    }

    async fn saved_card(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<SavedCardRecord>, StoreError> {
        saved_card(self, tenant, token).await
    }

    async fn delete_saved_card(
        &self,
        tenant: &TenantId,
        token: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        delete_saved_card(self, tenant, token, at).await
    }

    async fn saved_cards(
        &self,
        tenant: &TenantId,
        customer: &str,
    ) -> Result<Vec<SavedCardRecord>, StoreError> {
        saved_cards(self, tenant, customer).await
    }
}

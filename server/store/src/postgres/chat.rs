//! Chat transcripts on PostgreSQL: one row per message, ciphertext only. Functions over the
//! store's pool, with the [`crate::ChatStore`] impl that calls them.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgStore;
use super::convert::{Param, unsigned};
use crate::{ChatRecord, ChatStore, StoreError, TenantId};

const CHAT_COLUMNS: &str = "tenant_id, room, id, at_ms, key_version, ciphertext";

fn chat_from_row(row: &Row) -> Result<ChatRecord, StoreError> {
    Ok(ChatRecord {
        tenant: TenantId::new(row.try_get::<_, String>(0)?),
        room: row.try_get(1)?,
        id: row.try_get(2)?,
        at_ms: row.try_get(3)?,
        key_version: unsigned(row, 4, "key_version")?,
        ciphertext: row.try_get(5)?,
    })
}

pub(super) async fn insert(s: &PgStore, m: &ChatRecord) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO chat_messages ({CHAT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
    let params: [Param<'_>; 6] = [
        &m.tenant.as_str(),
        &m.room,
        &m.id,
        &m.at_ms,
        &i64::from(m.key_version),
        &m.ciphertext,
    ];
    s.execute(&sql, &params).await.map(drop)
}

pub(super) async fn message(
    s: &PgStore,
    tenant: &TenantId,
    room: &str,
    id: &str,
) -> Result<Option<ChatRecord>, StoreError> {
    let sql = format!(
        "SELECT {CHAT_COLUMNS} FROM chat_messages WHERE tenant_id = $1 AND id = $2 AND room = $3"
    );
    let rows = s.query(&sql, &[&tenant.as_str(), &id, &room]).await?;
    super::first(&rows, chat_from_row)
}

pub(super) async fn messages(
    s: &PgStore,
    tenant: &TenantId,
    room: &str,
) -> Result<Vec<ChatRecord>, StoreError> {
    let sql = format!(
        "SELECT {CHAT_COLUMNS} FROM chat_messages WHERE tenant_id = $1 AND room = $2
         ORDER BY at_ms, ord"
    );
    let rows = s.query(&sql, &[&tenant.as_str(), &room]).await?;
    super::all(&rows, chat_from_row)
}

pub(super) async fn replace(
    s: &PgStore,
    tenant: &TenantId,
    room: &str,
    id: &str,
    key_version: u32,
    ciphertext: &[u8],
) -> Result<bool, StoreError> {
    let n = s
        .execute(
            "UPDATE chat_messages SET key_version = $4, ciphertext = $5
             WHERE tenant_id = $1 AND id = $2 AND room = $3",
            &[
                &tenant.as_str(),
                &id,
                &room,
                &i64::from(key_version),
                &ciphertext,
            ],
        )
        .await?;
    Ok(n == 1)
}

#[async_trait]
impl ChatStore for PgStore {
    async fn insert_chat_message(&self, message: &ChatRecord) -> Result<(), StoreError> {
        insert(self, message).await
    }

    async fn chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
    ) -> Result<Option<ChatRecord>, StoreError> {
        message(self, tenant, room, id).await
    }

    async fn chat_messages(
        &self,
        tenant: &TenantId,
        room: &str,
    ) -> Result<Vec<ChatRecord>, StoreError> {
        messages(self, tenant, room).await
    }

    async fn replace_chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
        key_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError> {
        replace(self, tenant, room, id, key_version, ciphertext).await
    }
}

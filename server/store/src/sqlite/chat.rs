//! Chat transcripts: one row per message, ciphertext only. Plain functions over a connection,
//! with the [`crate::ChatStore`] impl that calls them.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::{ChatRecord, ChatStore, StoreError, TenantId};

const CHAT_COLUMNS: &str = "tenant_id, room, id, at_ms, key_version, ciphertext";

fn chat_from_row(row: &Row<'_>) -> rusqlite::Result<ChatRecord> {
    Ok(ChatRecord {
        tenant: TenantId::new(row.get::<_, String>(0)?),
        room: row.get(1)?,
        id: row.get(2)?,
        at_ms: row.get(3)?,
        key_version: row.get(4)?,
        ciphertext: row.get(5)?,
    })
}

pub(super) fn insert(c: &mut Connection, m: &ChatRecord) -> Result<(), StoreError> {
    c.execute(
        &format!("INSERT INTO chat_messages ({CHAT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            m.tenant.as_str(),
            m.room,
            m.id,
            m.at_ms,
            m.key_version,
            m.ciphertext
        ],
    )?;
    Ok(())
}

pub(super) fn message(
    c: &mut Connection,
    tenant: &TenantId,
    room: &str,
    id: &str,
) -> Result<Option<ChatRecord>, StoreError> {
    let sql = format!(
        "SELECT {CHAT_COLUMNS} FROM chat_messages WHERE tenant_id = ?1 AND id = ?2 AND room = ?3"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    Ok(stmt
        .query_row(params![tenant.as_str(), id, room], chat_from_row)
        .optional()?)
}

pub(super) fn messages(
    c: &mut Connection,
    tenant: &TenantId,
    room: &str,
) -> Result<Vec<ChatRecord>, StoreError> {
    let sql = format!(
        "SELECT {CHAT_COLUMNS} FROM chat_messages WHERE tenant_id = ?1 AND room = ?2
         ORDER BY at_ms, rowid"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![tenant.as_str(), room], chat_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn replace(
    c: &mut Connection,
    tenant: &TenantId,
    room: &str,
    id: &str,
    key_version: u32,
    ciphertext: &[u8],
) -> Result<bool, StoreError> {
    let n = c.execute(
        "UPDATE chat_messages SET key_version = ?4, ciphertext = ?5
         WHERE tenant_id = ?1 AND id = ?2 AND room = ?3",
        params![tenant.as_str(), id, room, key_version, ciphertext],
    )?;
    Ok(n == 1)
}

#[async_trait]
impl ChatStore for SqliteStore {
    async fn insert_chat_message(&self, message: &ChatRecord) -> Result<(), StoreError> {
        let m = message.clone();
        self.with(move |c| insert(c, &m)).await
    }

    async fn chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
    ) -> Result<Option<ChatRecord>, StoreError> {
        let (t, room, id) = (tenant.clone(), room.to_owned(), id.to_owned());
        self.with(move |c| message(c, &t, &room, &id)).await
    }

    async fn chat_messages(
        &self,
        tenant: &TenantId,
        room: &str,
    ) -> Result<Vec<ChatRecord>, StoreError> {
        let (t, room) = (tenant.clone(), room.to_owned());
        self.with(move |c| messages(c, &t, &room)).await
    }

    async fn replace_chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
        key_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError> {
        let (t, room, id, ct) = (
            tenant.clone(),
            room.to_owned(),
            id.to_owned(),
            ciphertext.to_vec(),
        );
        self.with(move |c| replace(c, &t, &room, &id, key_version, &ct))
            .await
    }
}

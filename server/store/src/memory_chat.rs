//! Chat transcripts in the [`super::MemoryStore`].

use async_trait::async_trait;

use super::MemoryStore;
use crate::{ChatRecord, ChatStore, StoreError, TenantId};

#[async_trait]
impl ChatStore for MemoryStore {
    async fn insert_chat_message(&self, message: &ChatRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(&message.tenant) {
            return Err(StoreError::Conflict(format!(
                "no tenant {}",
                message.tenant
            )));
        }
        let key = (message.tenant.clone(), message.id.clone());
        if inner.chat.contains_key(&key) {
            return Err(StoreError::Conflict(format!("chat message {}", message.id)));
        }
        let seq = inner.next_seq();
        inner.chat.insert(key, (seq, message.clone()));
        Ok(())
    }

    async fn chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
    ) -> Result<Option<ChatRecord>, StoreError> {
        Ok(self
            .lock()
            .chat
            .get(&(tenant.clone(), id.to_owned()))
            .filter(|(_, m)| m.room == room)
            .map(|(_, m)| m.clone()))
    }

    async fn chat_messages(
        &self,
        tenant: &TenantId,
        room: &str,
    ) -> Result<Vec<ChatRecord>, StoreError> {
        let inner = self.lock();
        let mut v: Vec<(i64, u64, ChatRecord)> = inner
            .chat
            .values()
            .filter(|(_, m)| &m.tenant == tenant && m.room == room)
            .map(|(seq, m)| (m.at_ms, *seq, m.clone()))
            .collect();
        v.sort_by_key(|(at, seq, _)| (*at, *seq));
        Ok(v.into_iter().map(|(_, _, m)| m).collect())
    }

    async fn replace_chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
        key_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.chat.get_mut(&(tenant.clone(), id.to_owned())) {
            Some((_, m)) if m.room == room => {
                m.key_version = key_version;
                m.ciphertext = ciphertext.to_vec();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

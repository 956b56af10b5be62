//! The vault's records in the [`super::MemoryStore`]: data keys, tokens, the audit log.

use std::sync::Arc;

use async_trait::async_trait;

use super::MemoryStore;
use crate::{
    AuditChainer, AuditRecord, DataKeyRecord, DataKeyState, OutboxEvent, SavedCardRecord,
    StoreError, TenantId, TokenRecord, UnixTime, VaultStore,
};

#[async_trait]
impl VaultStore for MemoryStore {
    async fn insert_data_key(&self, key: &DataKeyRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(&key.tenant) {
            return Err(StoreError::Conflict(format!("no tenant {}", key.tenant)));
        }
        let k = (key.tenant.clone(), key.version);
        if inner.data_keys.contains_key(&k) {
            return Err(StoreError::Conflict(format!(
                "data key {} v{}",
                key.tenant, key.version
            )));
        }
        inner.data_keys.insert(k, key.clone());
        Ok(())
    }

    async fn data_keys(&self, tenant: &TenantId) -> Result<Vec<DataKeyRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .data_keys
            .values()
            .filter(|k| &k.tenant == tenant)
            .cloned()
            .collect())
    }

    async fn retire_data_key(&self, tenant: &TenantId, version: u32) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.data_keys.get_mut(&(tenant.clone(), version)) {
            Some(k) => {
                k.state = DataKeyState::Retired;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn reserve_key_invocations(
        &self,
        tenant: &TenantId,
        version: u32,
        count: u64,
    ) -> Result<Option<u64>, StoreError> {
        let mut inner = self.lock();
        Ok(inner
            .data_keys
            .get_mut(&(tenant.clone(), version))
            .map(|k| {
                k.invocations = k.invocations.saturating_add(count);
                k.invocations
            }))
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.insert_tokens(std::slice::from_ref(token)).await
    }

    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
        self.insert_tokens_audited(tokens, &[]).await
    }

    async fn insert_tokens_audited(
        &self,
        tokens: &[TokenRecord],
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.check_tokens(tokens)?;
        inner.check_audit(audit)?;
        for t in tokens {
            inner.tokens.insert(t.id.clone(), t.clone());
        }
        for e in audit {
            inner.audit.insert(e.seq, e.clone());
        }
        Ok(())
    }

    async fn insert_tokens_chained(
        &self,
        tokens: &[TokenRecord],
        events: &[OutboxEvent],
        chain: Arc<AuditChainer>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut inner = self.lock();
        let audit = chain(inner.audit.values().next_back());
        inner.check_tokens(tokens)?;
        inner.check_audit(&audit)?;
        // Checks every event before changing anything, like the checks above.
        inner.enqueue(events)?;
        for t in tokens {
            inner.tokens.insert(t.id.clone(), t.clone());
        }
        for e in &audit {
            inner.audit.insert(e.seq, e.clone());
        }
        Ok(audit)
    }

    async fn token(&self, tenant: &TenantId, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .lock()
            .tokens
            .get(id)
            .filter(|t| &t.tenant == tenant)
            .cloned())
    }

    async fn tokens_below_key_version(
        &self,
        tenant: &TenantId,
        version: u32,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .tokens
            .values()
            .filter(|t| &t.tenant == tenant && t.key_version < version)
            .take(limit)
            .map(|t| t.id.clone())
            .collect())
    }

    async fn rewrap_token(
        &self,
        tenant: &TenantId,
        id: &str,
        old_version: u32,
        new_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.tokens.get_mut(id) {
            Some(t) if &t.tenant == tenant && t.key_version == old_version => {
                t.key_version = new_version;
                t.ciphertext = ciphertext.to_vec();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn append_audit(&self, entry: &AuditRecord) -> Result<(), StoreError> {
        self.insert_tokens_audited(&[], std::slice::from_ref(entry))
            .await
    }

    async fn audit_entries(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .audit
            .range(after.saturating_add(1)..)
            .take(limit)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn last_audit(&self) -> Result<Option<AuditRecord>, StoreError> {
        Ok(self.lock().audit.values().next_back().cloned())
    }

    async fn insert_saved_card(&self, card: &SavedCardRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner
            .tokens
            .get(&card.token)
            .is_none_or(|t| t.tenant != card.tenant)
        {
            return Err(StoreError::Conflict(format!("no token {}", card.token)));
        }
        if inner.saved_cards.contains_key(&card.token) {
            return Err(StoreError::Conflict(format!("saved card {}", card.token)));
        }
        inner.saved_cards.insert(card.token.clone(), card.clone());
        Ok(())
    }

    async fn saved_card(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<SavedCardRecord>, StoreError> {
        Ok(self
            .lock()
            .saved_cards
            .get(token)
            .filter(|c| &c.tenant == tenant)
            .cloned())
    }

    async fn delete_saved_card(
        &self,
        tenant: &TenantId,
        token: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.saved_cards.get_mut(token) {
            Some(c) if &c.tenant == tenant && c.deleted_at.is_none() => {
                c.deleted_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn saved_cards(
        &self,
        tenant: &TenantId,
        customer: &str,
    ) -> Result<Vec<SavedCardRecord>, StoreError> {
        let mut cards: Vec<SavedCardRecord> = self
            .lock()
            .saved_cards
            .values()
            .filter(|c| &c.tenant == tenant && c.customer == customer && c.deleted_at.is_none())
            .cloned()
            .collect();
        cards.sort_by(|a, b| (a.consented_at, &a.token).cmp(&(b.consented_at, &b.token)));
        Ok(cards)
    }
}

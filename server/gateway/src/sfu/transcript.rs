//! The chat transcript and chat incidents, kept by the vault.
//!
//! * [`VaultChatArchive`]: each message (sender, time, text after card-number interception)
//!   is JSON encrypted with the tenant's data key through the vault's [`Keyring`]
//!   (AES-256-GCM; associated data binds record type `chat_message`, tenant, room, message id
//!   and key version, so a row moved to another room, tenant or message does not decrypt) and
//!   stored with the room ([`hushpay_store::ChatRecord`]).
//! * [`AuditIncidents`]: a card number in chat appends an entry to the vault's hash-chained
//!   audit log (`chat.card_number_intercepted`: who, which room and message, how many earlier
//!   fragments were retracted). Never any of the message text.
//!
//! [`Keyring`]: hushpay_vault::Keyring

use std::sync::Arc;

use async_trait::async_trait;
use hushpay_store::{ChatRecord, ChatStore, TenantId};
use hushpay_vault::audit::AuditEvent;
use hushpay_vault::{Vault, VaultError};
use zeroize::Zeroizing;

use super::chat::{ChatArchive, ChatIncident, ChatMessage, IncidentSink};

/// Record type in the associated data of a transcript message.
pub const CHAT_RECORD_TYPE: &str = "chat_message";
/// Audit action of a card number intercepted in chat.
pub const CHAT_INCIDENT_ACTION: &str = "chat.card_number_intercepted";

/// Transcripts encrypted with the tenant's data key (the vault's keyring), in the store.
#[derive(Debug)]
pub struct VaultChatArchive {
    vault: Arc<Vault>,
    store: Arc<dyn ChatStore>,
}

impl VaultChatArchive {
    pub fn new(vault: Arc<Vault>, store: Arc<dyn ChatStore>) -> Self {
        Self { vault, store }
    }

    async fn seal(
        &self,
        tenant: &TenantId,
        room: &str,
        message: &ChatMessage,
    ) -> Result<(u32, Vec<u8>), VaultError> {
        let json = Zeroizing::new(serde_json::to_vec(message).map_err(|_| VaultError::Encrypt)?);
        self.vault
            .keyring()
            .encrypt(
                tenant,
                CHAT_RECORD_TYPE,
                &record_id(room, &message.id),
                &json,
            )
            .await
    }

    async fn open(&self, record: &ChatRecord) -> Result<ChatMessage, VaultError> {
        let json = self
            .vault
            .keyring()
            .decrypt(
                &record.tenant,
                CHAT_RECORD_TYPE,
                &record_id(&record.room, &record.id),
                record.key_version,
                &record.ciphertext,
            )
            .await?;
        let message: ChatMessage =
            serde_json::from_slice(&json).map_err(|_| VaultError::Malformed)?;
        if message.id != record.id {
            return Err(VaultError::Malformed);
        }
        Ok(message)
    }
}

/// The record id bound into the associated data: room and message id, length-prefixed so no
/// two (room, id) pairs encode alike.
fn record_id(room: &str, id: &str) -> String {
    format!("{}:{room}/{id}", room.len())
}

#[async_trait]
impl ChatArchive for VaultChatArchive {
    async fn append(
        &self,
        tenant: &str,
        room: &str,
        message: &ChatMessage,
    ) -> Result<(), VaultError> {
        let tenant = TenantId::new(tenant);
        let (key_version, ciphertext) = self.seal(&tenant, room, message).await?;
        let record = ChatRecord {
            tenant,
            room: room.to_owned(),
            id: message.id.clone(),
            at_ms: message.ts,
            key_version,
            ciphertext,
        };
        Ok(self.store.insert_chat_message(&record).await?)
    }

    async fn redact(
        &self,
        tenant: &str,
        room: &str,
        id: &str,
        text: &str,
    ) -> Result<(), VaultError> {
        let tenant = TenantId::new(tenant);
        let store = &self.store;
        let Some(record) = store.chat_message(&tenant, room, id).await? else {
            return Ok(());
        };
        let mut message = self.open(&record).await?;
        message.text = text.to_owned();
        message.redacted = true;
        let (version, ciphertext) = self.seal(&tenant, room, &message).await?;
        store
            .replace_chat_message(&tenant, room, id, version, &ciphertext)
            .await?;
        Ok(())
    }

    async fn transcript(&self, tenant: &str, room: &str) -> Result<Vec<ChatMessage>, VaultError> {
        let tenant = TenantId::new(tenant);
        let records = self.store.chat_messages(&tenant, room).await?;
        let mut out = Vec::with_capacity(records.len());
        for r in &records {
            out.push(self.open(r).await?);
        }
        Ok(out)
    }
}

/// Chat incidents in the vault's audit log.
#[derive(Debug)]
pub struct AuditIncidents {
    vault: Arc<Vault>,
}

impl AuditIncidents {
    pub fn new(vault: Arc<Vault>) -> Self {
        Self { vault }
    }
}

#[async_trait]
impl IncidentSink for AuditIncidents {
    async fn chat_card_number(&self, incident: &ChatIncident) -> Result<(), VaultError> {
        tracing::warn!(
            tenant = %incident.tenant,
            room = %incident.room,
            participant = %incident.participant_id,
            message = %incident.message_id,
            retracted = incident.retracted.len(),
            "card number intercepted in chat"
        );
        let outcome = match incident.retracted.len() {
            0 => "redacted".to_owned(),
            n => format!("redacted; {n} earlier message(s) retracted"),
        };
        self.vault
            .audit(AuditEvent {
                tenant: Some(TenantId::new(incident.tenant.as_str())),
                actor: format!("{}:{}", incident.role, incident.identity),
                action: CHAT_INCIDENT_ACTION.to_owned(),
                resource: format!("room:{}/{}", incident.room, incident.message_id),
                outcome,
                request_id: incident.participant_id.clone(),
            })
            .await
    }
}

//! Saved cards (issue 17): a token the patient agreed to have charged again, bound to the
//! tenant and a customer reference. Every other token stays single-use; a token becomes a
//! saved card only through [`Vault::save_card`], which writes a separate
//! [`SavedCardRecord`]. The CVC is never stored: a saved card is charged without one
//! (merchant-initiated, with the connector's stored-credential indicators).
//!
//! Every save, charge (open) and delete is audited first (audit or deny): actions
//! `token.save`, `token.detokenize` (resource `<id> -> <connector> (saved)`), `token.delete`.

use hushpay_store::{SavedCardRecord, TenantId, UnixTime};

use crate::payment::is_clean_reference;
use crate::{Actor, OpenedCard, Vault, VaultError, unix_now};

impl Vault {
    /// Saves the tenant's token `id` for the customer `customer`, with the time the tenant
    /// recorded the patient's consent. Refuses a bad customer reference, an unknown (or
    /// another tenant's) token, an expired token and a token already saved.
    pub async fn save_card(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        customer: &str,
        consented_at: UnixTime,
    ) -> Result<SavedCardRecord, VaultError> {
        if !is_clean_reference(customer) {
            return Err(VaultError::InvalidCustomer);
        }
        let record = self.token_record(tenant, id).await?;
        if record.expires_at.is_some_and(|e| e <= unix_now()) {
            return Err(VaultError::TokenExpired);
        }
        if self.store().saved_card(tenant, id).await?.is_some() {
            return Err(VaultError::AlreadySaved);
        }
        self.audit(Self::event(actor, tenant, "token.save", id, "ok"))
            .await?;
        let card = SavedCardRecord {
            tenant: tenant.clone(),
            token: id.to_owned(),
            customer: customer.to_owned(),
            consented_at,
            deleted_at: None,
        };
        self.store().insert_saved_card(&card).await?;
        Ok(card)
    }

    /// The saved-card record of the tenant's token: `TokenNotFound` for an unknown or another
    /// tenant's token, `TokenNotSaved` for a one-time token. Deleted cards are returned (with
    /// `deleted_at`), so callers can tell "deleted" from "never existed".
    pub async fn saved_card(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<SavedCardRecord, VaultError> {
        self.token_record(tenant, id).await?;
        self.store()
            .saved_card(tenant, id)
            .await?
            .ok_or(VaultError::TokenNotSaved)
    }

    /// The customer's saved cards that are not deleted, oldest consent first.
    pub async fn saved_cards(
        &self,
        tenant: &TenantId,
        customer: &str,
    ) -> Result<Vec<SavedCardRecord>, VaultError> {
        if !is_clean_reference(customer) {
            return Err(VaultError::InvalidCustomer);
        }
        Ok(self.store().saved_cards(tenant, customer).await?)
    }

    /// Deletes a saved card (audited first): later charges are refused with `TokenDeleted`.
    /// A card already deleted is `TokenDeleted`; a one-time token `TokenNotSaved`.
    pub async fn delete_saved_card(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<SavedCardRecord, VaultError> {
        let card = self.saved_card(tenant, id).await?;
        if card.deleted_at.is_some() {
            return Err(VaultError::TokenDeleted);
        }
        self.audit(Self::event(actor, tenant, "token.delete", id, "ok"))
            .await?;
        let at = unix_now();
        if !self.store().delete_saved_card(tenant, id, at).await? {
            // Deleted by a concurrent request in between.
            return Err(VaultError::TokenDeleted);
        }
        Ok(SavedCardRecord {
            deleted_at: Some(at),
            ..card
        })
    }

    /// Decrypts a saved card for a merchant-initiated charge (audited first). Never returns a
    /// CVC, and never takes one a first payment may still hold. Refuses one-time tokens
    /// (`TokenNotSaved`), deleted cards (`TokenDeleted`) and expired tokens.
    pub async fn open_saved_for_connector(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        connector: &str,
    ) -> Result<OpenedCard, VaultError> {
        let record = self.token_record(tenant, id).await?;
        let card = self
            .store()
            .saved_card(tenant, id)
            .await?
            .ok_or(VaultError::TokenNotSaved)?;
        if card.deleted_at.is_some() {
            return Err(VaultError::TokenDeleted);
        }
        let (pan, expiry) = self
            .detokenize(
                actor,
                tenant,
                &record,
                &format!("{id} -> {connector} (saved)"),
            )
            .await?;
        Ok(OpenedCard {
            pan,
            expiry,
            cvc: None,
        })
    }
}

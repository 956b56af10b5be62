//! `hushpay keys rotate` and `hushpay audit verify`.

use anyhow::Context;
use clap::Subcommand;
use hushpay_vault::Actor;

use crate::app::AppState;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Rotate a tenant's data key (the old version keeps decrypting, never encrypts again),
    /// then rewrap the tenant's tokens under the new version.
    Rotate {
        /// Tenant name or id.
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit log's hash chain; exits non-zero on a changed, deleted or reordered
    /// entry. Prints the head hash: keep it elsewhere to detect a truncated tail later.
    Verify,
}

async fn tenant_id(state: &AppState, name_or_id: &str) -> anyhow::Result<hushpay_store::TenantId> {
    let store = state.store.as_ref();
    if let Some(t) = store.tenant_by_name(name_or_id).await? {
        return Ok(t.id);
    }
    let id = hushpay_store::TenantId::new(name_or_id);
    store
        .tenant(&id)
        .await?
        .map(|t| t.id)
        .with_context(|| format!("no tenant named or with id `{name_or_id}`"))
}

/// Runs `hushpay keys ...`.
pub async fn keys(state: &AppState, cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Rotate { tenant } => {
            let id = tenant_id(state, &tenant).await?;
            let vault = &state.vault.vault;
            let actor = Actor {
                who: "admin".into(),
                request_id: "cli".into(),
            };
            let version = vault.rotate(&actor, &id).await?;
            let moved = vault.rewrap_retired(&actor, &id, 500).await?;
            println!("tenant {id}: data key version {version} active; {moved} tokens rewrapped");
            Ok(())
        }
    }
}

/// Runs `hushpay audit ...`.
pub async fn audit(state: &AppState, cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify => {
            let report = hushpay_vault::audit::verify(state.store.as_ref()).await?;
            match report.problem {
                None => {
                    println!(
                        "audit log intact: {} entries, head {}",
                        report.entries, report.head_hash
                    );
                    Ok(())
                }
                Some(problem) => anyhow::bail!(
                    "audit log BROKEN after {} good entries: {problem}",
                    report.entries
                ),
            }
        }
    }
}

//! Admin commands: `hushpay tenant|apikey|token ...`. They open the same store and keys as
//! `serve`, so they work beside a running gateway (SQLite WAL allows it).

use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use hushpay_auth::{MintRequest, Role};
use hushpay_store::{ApiKeyId, TenantId};

use crate::app::AppState;
use crate::tenants;

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its id.
    Create {
        /// Unique name: a-z, 0-9 and '-', starting with a letter.
        name: String,
        /// An origin allowed to embed Hushpay widgets (repeatable), e.g. https://portal.example.
        #[arg(long = "allowed-origin")]
        allowed_origins: Vec<String>,
        /// Recording policy: no room of the tenant is recorded before the patient's consent.
        #[arg(long)]
        require_consent_by_default: bool,
        /// An agent desktop origin allowed to embed the agent console (repeatable), e.g.
        /// https://crm.example: https, or http on a loopback host.
        #[arg(long = "agent-desktop-origin")]
        agent_desktop_origins: Vec<String>,
    },
    /// Change a tenant's settings (at least one).
    Update {
        /// Tenant id (`ten_...`) or name.
        tenant: String,
        /// Recording policy: no room of the tenant is recorded before the patient's consent
        /// (`true` or `false`; rooms that open from now on).
        #[arg(long, action = clap::ArgAction::Set)]
        require_consent_by_default: Option<bool>,
        /// Replaces the agent desktop origins allowed to embed the agent console (repeatable).
        #[arg(
            long = "agent-desktop-origin",
            conflicts_with = "no_agent_desktop_origins"
        )]
        agent_desktop_origins: Vec<String>,
        /// Forbids embedding the agent console (clears the agent desktop origins).
        #[arg(long)]
        no_agent_desktop_origins: bool,
        /// The locale of the tenant's payments that name none (BCP 47 of a supported
        /// language: en, es, es-US, ...).
        #[arg(long)]
        default_locale: Option<String>,
    },
    /// List tenants.
    List,
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Create an API key for a tenant and print it once.
    Create {
        /// Tenant id (`ten_...`) or name.
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
    /// Revoke an API key.
    Revoke {
        #[arg(long)]
        tenant: String,
        /// The key id (`key_...`), as `apikey list` shows it.
        key_id: String,
    },
    /// List a tenant's API keys (ids and state, never secrets).
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Mint a participant access token and print it.
    Mint {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        identity: String,
        #[arg(long)]
        room: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Lifetime: `90s`, `10m`, `1h` or plain seconds.
        #[arg(long, value_parser = parse_ttl)]
        ttl: Option<Duration>,
    },
}

/// Appends an admin audit entry (actor `admin`); an error refuses the command (audit or deny).
pub async fn audit(
    state: &AppState,
    actor: &str,
    tenant: Option<&TenantId>,
    action: &str,
    resource: &str,
    outcome: &str,
) -> anyhow::Result<()> {
    state
        .vault
        .vault
        .audit(hushpay_vault::audit::AuditEvent {
            tenant: tenant.cloned(),
            actor: actor.into(),
            action: action.into(),
            resource: resource.into(),
            outcome: outcome.into(),
            request_id: String::new(),
        })
        .await
        .with_context(|| format!("{action} refused: the audit log cannot be written"))
}

/// Runs `op` between an audit entry and, if it fails, a second `error` entry.
async fn audited<T>(
    state: &AppState,
    tenant: Option<&TenantId>,
    action: &str,
    resource: &str,
    op: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    audit(state, "admin", tenant, action, resource, "ok").await?;
    let result = op.await;
    if result.is_err() {
        // Best effort: the first entry already records the attempt.
        let _ = audit(state, "admin", tenant, action, resource, "error").await;
    }
    result
}

pub async fn tenant(state: &AppState, cmd: TenantCommand) -> anyhow::Result<()> {
    let store = state.store.as_ref();
    match cmd {
        TenantCommand::Create {
            name,
            allowed_origins,
            require_consent_by_default,
            agent_desktop_origins,
        } => {
            tenants::check_agent_desktop_origins(&agent_desktop_origins)?;
            let create = async {
                let t = tenants::create_tenant_with_policy(
                    store,
                    &name,
                    allowed_origins,
                    require_consent_by_default,
                    now(),
                )
                .await?;
                if agent_desktop_origins.is_empty() {
                    return Ok(t);
                }
                Ok(
                    tenants::set_agent_desktop_origins(store, &t.id, &agent_desktop_origins)
                        .await?,
                )
            };
            let t = audited(state, None, "tenant.create", &name, create).await?;
            println!("{}", t.id);
        }
        TenantCommand::Update {
            tenant,
            require_consent_by_default,
            agent_desktop_origins,
            no_agent_desktop_origins,
            default_locale,
        } => {
            let desktops = (no_agent_desktop_origins || !agent_desktop_origins.is_empty())
                .then_some(agent_desktop_origins);
            if require_consent_by_default.is_none()
                && desktops.is_none()
                && default_locale.is_none()
            {
                bail!(
                    "nothing to change: pass --require-consent-by-default true|false, \
                     --agent-desktop-origin ORIGIN..., --no-agent-desktop-origins or \
                     --default-locale LOCALE"
                );
            }
            let default_locale = match default_locale {
                Some(tag) => Some(hushpay_vault::payment::locale::normalize(&tag).ok_or_else(
                    || {
                        anyhow::anyhow!(
                            "--default-locale must be a BCP 47 tag of a supported language \
                             with an optional region: en, es (such as es-US)"
                        )
                    },
                )?),
                None => None,
            };
            if let Some(list) = &desktops {
                tenants::check_agent_desktop_origins(list)?;
            }
            let t = tenants::resolve_tenant(store, &tenant).await?;
            let mut changes = Vec::new();
            if let Some(require) = require_consent_by_default {
                changes.push(format!("require_consent_by_default={require}"));
            }
            if let Some(list) = &desktops {
                changes.push(format!("agent_desktop_origins={}", list.join(",")));
            }
            if let Some(l) = &default_locale {
                changes.push(format!("default_locale={l}"));
            }
            let outcome = changes.join(" ");
            audit(
                state,
                "admin",
                Some(&t.id),
                "tenant.update",
                t.id.as_str(),
                &outcome,
            )
            .await?;
            if let Some(require) = require_consent_by_default
                && !store.set_tenant_consent_by_default(&t.id, require).await?
            {
                bail!("no tenant {}", t.id);
            }
            if let Some(list) = &desktops {
                tenants::set_agent_desktop_origins(store, &t.id, list).await?;
            }
            if let Some(l) = &default_locale
                && !store.set_tenant_default_locale(&t.id, Some(l)).await?
            {
                bail!("no tenant {}", t.id);
            }
            eprintln!("tenant {}: {outcome}", t.name);
        }
        TenantCommand::List => {
            for t in store.tenants().await? {
                let policy = if t.require_consent_by_default {
                    "consent-by-default"
                } else {
                    "-"
                };
                println!(
                    "{}\t{}\t{}\t{policy}",
                    t.id,
                    t.name,
                    t.allowed_origins.join(",")
                );
            }
        }
    }
    Ok(())
}

pub async fn apikey(state: &AppState, cmd: ApikeyCommand) -> anyhow::Result<()> {
    let store = state.store.as_ref();
    match cmd {
        ApikeyCommand::Create { tenant, label } => {
            let t = tenants::resolve_tenant(store, &tenant).await?;
            let create = async { Ok(tenants::create_api_key(store, &t.id, &label, now()).await?) };
            let created =
                audited(state, Some(&t.id), "apikey.create", t.id.as_str(), create).await?;
            eprintln!(
                "API key {} for tenant {} (shown once; store it now):",
                created.record.id, t.name
            );
            println!("{}", created.key);
        }
        ApikeyCommand::Revoke { tenant, key_id } => {
            let t = tenants::resolve_tenant(store, &tenant).await?;
            let revoke = async {
                if !store
                    .revoke_api_key(&t.id, &ApiKeyId::new(key_id.clone()), now())
                    .await?
                {
                    bail!("tenant {} has no active API key {key_id}", t.name);
                }
                Ok(())
            };
            audited(state, Some(&t.id), "apikey.revoke", &key_id, revoke).await?;
            eprintln!("revoked {key_id}");
        }
        ApikeyCommand::List { tenant } => {
            let t = tenants::resolve_tenant(store, &tenant).await?;
            for k in store.api_keys(&t.id).await? {
                let state = if k.is_revoked() { "revoked" } else { "active" };
                println!("{}\t{state}\t{}\t{}", k.id, k.created_at, k.label);
            }
        }
    }
    Ok(())
}

pub async fn token(state: &AppState, cmd: TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::Mint {
        tenant,
        identity,
        room,
        role,
        ttl,
    } = cmd;
    if state.tokens.require_api_key_claim {
        bail!(
            "production mode refuses tokens that no API key minted (they could not be revoked): \
             mint with POST /v1/access-tokens; `hushpay token mint` is for development"
        );
    }
    let t = tenants::resolve_tenant(state.store.as_ref(), &tenant).await?;
    let minted = state
        .tokens
        .signer
        .mint_now(MintRequest {
            tenant: t.id.to_string(),
            identity,
            room,
            role,
            grants: None,
            ttl,
            api_key_id: None,
        })
        .context("cannot mint token")?;
    println!("{}", minted.token);
    Ok(())
}

fn now() -> i64 {
    i64::try_from(hushpay_auth::unix_now()).unwrap_or(i64::MAX)
}

fn parse_role(s: &str) -> Result<Role, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(|_| "expected patient, agent or supervisor".to_owned())
}

/// `90s`, `10m`, `1h`, or plain seconds.
pub fn parse_ttl(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (digits, unit) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| format!("bad duration `{s}`"))?;
    let secs = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("bad duration unit in `{s}` (use s, m or h)")),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ttls_parse() {
        assert_eq!(parse_ttl("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_ttl("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_ttl("45").unwrap(), Duration::from_secs(45));
        for bad in ["", "m", "10d", "-5m", "1.5m"] {
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_parse() {
        assert_eq!(parse_role("agent").unwrap(), Role::Agent);
        assert!(parse_role("admin").is_err());
    }
}

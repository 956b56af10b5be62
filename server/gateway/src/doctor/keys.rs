//! Key files: each readable by this user and of the right kind (the signing key a PKCS#8 PEM
//! Ed25519 key, the KEK 32 bytes in hex or base64, the HPKE key 32 bytes in hex), and readable
//! by nobody else. Development keys that do not exist yet are a warning: `serve` generates them.
//! Nothing is generated here, and no key material is printed.

use std::path::Path;

use hushpay_auth::{KeyOrigin, SigningKey};
use zeroize::Zeroizing;

use super::Report;
use crate::config::{Algorithm, Config, Mode};
use crate::vault::config::KekSource;

pub(super) fn check(config: &Config, report: &mut Report) {
    signing_key(config, report);
    kek(config, report);
    hpke(config, report);
}

fn signing_key(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "auth.signing_key_file";
    if config.auth.algorithm == Algorithm::HS256 {
        report.warn(
            "auth.algorithm",
            "HS256 tokens (development only; production needs EdDSA and auth.signing_key_file)",
        );
        return;
    }
    let path = &config.auth.signing_key_file;
    let configured = config.auth.signing_key_configured || config.mode == Mode::Production;
    if !configured && !path.exists() {
        report.warn(
            SUBJECT,
            format!(
                "not set: a development key will be generated at {} (production needs your own)",
                path.display()
            ),
        );
        return;
    }
    let origin = match config.mode {
        Mode::Production => KeyOrigin::Production,
        Mode::Development => KeyOrigin::Development,
    };
    let parsed = read(path).and_then(|pem| {
        SigningKey::from_pkcs8_pem(&pem, origin)
            .map(|_| ())
            .map_err(|_| {
                format!(
                    "{} is not a PKCS#8 PEM Ed25519 private key (make one with \
                     `openssl genpkey -algorithm ed25519 -out FILE`)",
                    path.display()
                )
            })
    });
    match parsed {
        Ok(()) => {
            report.ok(SUBJECT, format!("{}: an Ed25519 key", path.display()));
            permissions(path, SUBJECT, report);
        }
        Err(message) => report.fix(SUBJECT, message),
    }
}

fn kek(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "vault.kek_file";
    let path = match &config.vault.kek {
        KekSource::Inline(_) => {
            report.ok(
                "vault.kek",
                "given inline (HUSHPAY__VAULT__KEK); its form was checked",
            );
            return;
        }
        KekSource::Generated(path) if !path.exists() => {
            report.warn(
                SUBJECT,
                format!(
                    "not set: a development KEK will be generated at {} (production needs yours)",
                    path.display()
                ),
            );
            return;
        }
        KekSource::File(path) | KekSource::Generated(path) => path,
    };
    let parsed = read(path).and_then(|text| {
        hushpay_vault::Kek::parse(&text).map(drop).map_err(|e| {
            format!(
                "{}: {e} (the KEK is 32 bytes as 64 hex digits or base64, e.g. \
                 `openssl rand -hex 32`)",
                path.display()
            )
        })
    });
    match parsed {
        Ok(()) => {
            report.ok(SUBJECT, format!("{}: a 256-bit key", path.display()));
            permissions(path, SUBJECT, report);
        }
        Err(message) => report.fix(SUBJECT, message),
    }
}

fn hpke(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "vault.hpke_key_file";
    let path = &config.vault.hpke_key_file;
    if !config.vault.hpke_key_configured && !path.exists() {
        report.warn(
            SUBJECT,
            format!(
                "not set: a development HPKE key will be generated at {} (production needs yours)",
                path.display()
            ),
        );
        return;
    }
    match crate::vault::read_hpke_key(path) {
        Ok(_) => {
            report.ok(SUBJECT, format!("{}: an X25519 key", path.display()));
            permissions(path, SUBJECT, report);
        }
        Err(e) => report.fix(
            SUBJECT,
            format!(
                "{e:#} (32 bytes as 64 hex digits, e.g. `openssl rand -hex 32`; {})",
                path.display()
            ),
        ),
    }
}

/// The file's text, or why it cannot be read (the path and the OS error, never the content).
fn read(path: &Path) -> Result<Zeroizing<String>, String> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| {
            format!(
                "cannot read {}: {e} (check the path, and that the gateway's user may read it)",
                path.display()
            )
        })
}

/// Warns when a key file is readable or writable by group or others.
fn permissions(path: &Path, subject: &str, report: &mut Report) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            report.warn(
                subject,
                format!(
                    "{} is open to group or others (mode {:o}): `chmod 600` it",
                    path.display(),
                    meta.permissions().mode() & 0o777
                ),
            );
        }
    }
}

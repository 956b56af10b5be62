//! SIP digest authentication, UAS side (RFC 3261 §22, RFC 8760: MD5 and SHA-256, `qop=auth`).
//!
//! Nonces are derived from a secret the caller supplies and a counter (no randomness and no
//! clock inside the crate); each is remembered with the instant it was issued and accepted for
//! [`NONCE_LIFETIME`] and for one request: a nonce that admitted a call is spent (a replayed
//! `Authorization` gets a stale challenge). The `uri=` must be the Request-URI (RFC 3261
//! §22.4). Comparison of the response is constant-time.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use ezk_sip_types::header::typed::Algorithm as EzkAlgorithm;
use ezk_sip_types::header::typed::{AlgorithmValue, DigestResponse, QopOption, Username};
use md5::Md5;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::trunk::{DigestAlgorithm, DigestCredentials};

/// How long an issued nonce is accepted.
pub const NONCE_LIFETIME: Duration = Duration::from_secs(300);

/// `H(data)` of the algorithm, lower-case hex.
pub fn hash(alg: DigestAlgorithm, data: &str) -> String {
    match alg {
        DigestAlgorithm::Md5 => hex::encode(Md5::digest(data.as_bytes())),
        DigestAlgorithm::Sha256 => hex::encode(Sha256::digest(data.as_bytes())),
    }
}

/// The expected `response=` value (RFC 8760 §2.4 / RFC 2617 §3.2.2.1), `qop` absent or `auth`.
#[allow(clippy::too_many_arguments)]
pub fn expected_response(
    alg: DigestAlgorithm,
    username: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    qop: Option<(&str, u32, &str)>,
) -> String {
    let ha1 = hash(alg, &format!("{username}:{realm}:{password}"));
    let ha2 = hash(alg, &format!("{method}:{uri}"));
    match qop {
        Some((cnonce, nc, qop)) => {
            hash(alg, &format!("{ha1}:{nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}"))
        }
        None => hash(alg, &format!("{ha1}:{nonce}:{ha2}")),
    }
}

/// The outcome of checking an `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// Right credentials on a nonce we no longer know: challenge again with `stale=true`.
    Stale,
    /// Wrong credentials, wrong realm or user, unsupported algorithm or qop: refuse.
    Refused,
}

/// Nonces issued and not yet expired.
#[derive(Debug)]
pub struct Nonces {
    secret: [u8; 32],
    counter: u64,
    issued: HashMap<String, (Instant, DigestAlgorithm)>,
    order: VecDeque<String>,
    max: usize,
}

impl Nonces {
    pub fn new(secret: [u8; 32], max: usize) -> Self {
        Nonces {
            secret,
            counter: 0,
            issued: HashMap::new(),
            order: VecDeque::new(),
            max: max.max(1),
        }
    }

    /// A fresh nonce for a challenge with `alg`.
    pub fn issue(&mut self, now: Instant, alg: DigestAlgorithm) -> String {
        self.counter += 1;
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(b"nonce");
        h.update(self.counter.to_be_bytes());
        let nonce = hex::encode(&h.finalize()[..16]);
        while self.order.len() >= self.max {
            if let Some(old) = self.order.pop_front() {
                self.issued.remove(&old);
            }
        }
        self.issued.insert(nonce.clone(), (now, alg));
        self.order.push_back(nonce.clone());
        nonce
    }

    /// Forgets expired nonces.
    pub fn expire(&mut self, now: Instant) {
        while let Some(front) = self.order.front() {
            match self.issued.get(front) {
                Some((at, _)) if now.saturating_duration_since(*at) < NONCE_LIFETIME => break,
                _ => {
                    if let Some(old) = self.order.pop_front() {
                        self.issued.remove(&old);
                    }
                }
            }
        }
    }

    /// Checks a digest response for `method` and the request's URI against `creds`.
    pub fn verify(
        &mut self,
        now: Instant,
        d: &DigestResponse,
        creds: &DigestCredentials,
        realm: &str,
        method: &str,
        request_uri: &str,
    ) -> Verdict {
        let Username::Username(user) = &d.username else {
            return Verdict::Refused;
        };
        let Some(alg) = algorithm(&d.algorithm) else {
            return Verdict::Refused;
        };
        if user.as_ref() as &str != creds.username
            || d.realm.as_ref() as &str != realm
            || !creds.algorithms.contains(&alg)
            || d.uri.as_ref() as &str != request_uri
        {
            return Verdict::Refused;
        }
        let qop = match &d.qop_response {
            None => None,
            Some(q) if q.qop == QopOption::Auth => Some((q.cnonce.as_ref(), q.nc, "auth")),
            Some(_) => return Verdict::Refused,
        };
        let expected = expected_response(
            alg,
            &creds.username,
            realm,
            &creds.password,
            method,
            &d.uri,
            &d.nonce,
            qop,
        );
        let given = d.response.to_ascii_lowercase();
        if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
            return Verdict::Refused;
        }
        match self.issued.get(d.nonce.as_ref() as &str) {
            Some((at, a)) if *a == alg && now.saturating_duration_since(*at) < NONCE_LIFETIME => {
                // single use: a captured Authorization cannot open a second call
                self.issued.remove(d.nonce.as_ref() as &str);
                Verdict::Accepted
            }
            _ => Verdict::Stale,
        }
    }
}

fn algorithm(a: &EzkAlgorithm) -> Option<DigestAlgorithm> {
    match a {
        EzkAlgorithm::AlgorithmValue(AlgorithmValue::MD5) => Some(DigestAlgorithm::Md5),
        EzkAlgorithm::AlgorithmValue(AlgorithmValue::SHA256) => Some(DigestAlgorithm::Sha256),
        _ => None,
    }
}

/// The `WWW-Authenticate` value of a challenge.
pub fn challenge(realm: &str, nonce: &str, alg: DigestAlgorithm, stale: bool) -> String {
    let stale = if stale { ", stale=true" } else { "" };
    format!(
        "Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"{stale}",
        alg.token()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2617 §3.5's example (HTTP, MD5, qop=auth).
    #[test]
    fn md5_matches_rfc2617_example() {
        let r = expected_response(
            DigestAlgorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            Some(("0a4f113b", 1, "auth")),
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    /// RFC 7616 §3.9.1's example (HTTP, SHA-256, qop=auth).
    #[test]
    fn sha256_matches_rfc7616_example() {
        let r = expected_response(
            DigestAlgorithm::Sha256,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            Some(("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", 1, "auth")),
        );
        assert_eq!(
            r,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }
}

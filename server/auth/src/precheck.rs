//! Structural checks done by hand before the JWT library sees a token: segment count,
//! strict base64url, JSON nesting depth, a duplicate-free header and payload object, the
//! header allowlist, and the JSON types of the registered claims.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::claims::{Claims, Grants, Identity, Role, RoomName, TenantId};
use crate::error::AuthError;

/// Deepest JSON nesting accepted in a header or payload (claims need 2).
pub(crate) const MAX_JSON_DEPTH: usize = 4;

/// The three segments of a compact JWS.
pub(crate) fn split(token: &str) -> Result<[&str; 3], AuthError> {
    let mut it = token.split('.');
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(h), Some(p), Some(s), None) => Ok([h, p, s]),
        _ => Err(AuthError::Malformed("a JWT has exactly 3 segments")),
    }
}

/// Unpadded base64url only (no `=`, no `+` or `/`).
pub(crate) fn decode_segment(segment: &str, what: &'static str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| AuthError::Malformed(what))
}

/// Rejects JSON nested deeper than `max` without parsing it (brackets inside strings are
/// skipped). Runs in one pass over the bytes.
pub(crate) fn check_depth(json: &[u8], max: usize) -> Result<(), AuthError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in json {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(AuthError::NestingTooDeep { max });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// A JSON object whose top level has no duplicate member names (so our checks and the JWT
/// library cannot see different values for the same claim).
struct StrictObject(Map<String, Value>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StrictObject, A::Error> {
                let mut map = Map::new();
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    if map.contains_key(&k) {
                        return Err(serde::de::Error::custom("duplicate member"));
                    }
                    map.insert(k, v);
                }
                Ok(StrictObject(map))
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// Decodes a header or payload segment into a duplicate-free JSON object.
pub(crate) fn decode_object(
    segment: &str,
    what: &'static str,
) -> Result<Map<String, Value>, AuthError> {
    let bytes = decode_segment(segment, what)?;
    check_depth(&bytes, MAX_JSON_DEPTH)?;
    let StrictObject(map) =
        serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed(what))?;
    Ok(map)
}

/// The checked header: its algorithm and key id.
#[derive(Debug)]
pub(crate) struct CheckedHeader<'a> {
    pub(crate) alg: Algorithm,
    pub(crate) kid: &'a str,
}

/// Header parameters that are never accepted, by name (static so errors can carry them).
const FORBIDDEN: [&str; 8] = ["jku", "x5u", "jwk", "x5c", "crit", "x5t", "x5t#S256", "cty"];

/// `alg` on the allowlist (exact, case-sensitive), no parameter but `alg`, `kid`, `typ`,
/// `typ` (if present) exactly `JWT`, `kid` present and a string.
pub(crate) fn check_header(
    header: &Map<String, Value>,
    allow_hs256: bool,
) -> Result<CheckedHeader<'_>, AuthError> {
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("EdDSA") => Algorithm::EdDSA,
        Some("HS256") if allow_hs256 => Algorithm::HS256,
        _ => return Err(AuthError::AlgorithmNotAllowed),
    };
    for name in header.keys() {
        if !matches!(name.as_str(), "alg" | "kid" | "typ") {
            let known = FORBIDDEN.iter().find(|f| **f == name.as_str());
            return Err(AuthError::HeaderForbidden(
                known.copied().unwrap_or("unknown"),
            ));
        }
    }
    if let Some(typ) = header.get("typ")
        && typ.as_str() != Some("JWT")
    {
        return Err(AuthError::HeaderForbidden("typ"));
    }
    let kid = match header.get("kid") {
        None => return Err(AuthError::KeyIdMissing),
        Some(Value::String(kid)) => kid.as_str(),
        Some(_) => return Err(AuthError::KeyIdUnknown),
    };
    Ok(CheckedHeader { alg, kid })
}

/// A registered time claim: required, a non-negative JSON integer (no string, no float).
fn time_claim(payload: &Map<String, Value>, name: &'static str) -> Result<u64, AuthError> {
    match payload.get(name) {
        None => Err(AuthError::ClaimMissing(name)),
        Some(Value::Number(n)) => n.as_u64().ok_or(AuthError::ClaimInvalid(name)),
        Some(_) => Err(AuthError::ClaimInvalid(name)),
    }
}

fn string_claim<'a>(
    payload: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, AuthError> {
    match payload.get(name) {
        None => Err(AuthError::ClaimMissing(name)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(AuthError::ClaimInvalid(name)),
    }
}

/// Checks the type of every claim we rely on and builds [`Claims`]. `aud` must be a single
/// string: an array is refused even when it contains our audience.
pub(crate) fn typed_claims(payload: &Map<String, Value>) -> Result<Claims, AuthError> {
    let exp = time_claim(payload, "exp")?;
    let nbf = time_claim(payload, "nbf")?;
    let iat = time_claim(payload, "iat")?;
    let iss = string_claim(payload, "iss")?.to_owned();
    let aud = string_claim(payload, "aud")?.to_owned();
    let sub = Identity::parse(string_claim(payload, "sub")?)
        .map_err(|_| AuthError::ClaimInvalid("sub"))?;
    let tenant = TenantId::parse(string_claim(payload, "tenant")?)
        .map_err(|_| AuthError::ClaimInvalid("tenant"))?;
    let room = RoomName::parse(string_claim(payload, "room")?)
        .map_err(|_| AuthError::ClaimInvalid("room"))?;
    let role = match string_claim(payload, "role")? {
        "patient" => Role::Patient,
        "agent" => Role::Agent,
        "supervisor" => Role::Supervisor,
        _ => return Err(AuthError::ClaimInvalid("role")),
    };
    let jti = string_claim(payload, "jti")?;
    if jti.is_empty() || jti.len() > 128 {
        return Err(AuthError::ClaimInvalid("jti"));
    }
    let grants = match payload.get("grants") {
        None => return Err(AuthError::ClaimMissing("grants")),
        Some(g @ Value::Object(members)) if members.values().all(Value::is_boolean) => {
            Grants::deserialize(g).map_err(|_| AuthError::ClaimInvalid("grants"))?
        }
        Some(_) => return Err(AuthError::ClaimInvalid("grants")),
    };
    let akid = match payload.get("akid") {
        None => None,
        Some(Value::String(s)) if crate::claims::valid_api_key_id(s) => Some(s.clone()),
        Some(_) => return Err(AuthError::ClaimInvalid("akid")),
    };
    Ok(Claims {
        iss,
        aud,
        sub,
        tenant,
        room,
        role,
        grants,
        exp,
        nbf,
        iat,
        jti: jti.to_owned(),
        akid,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn depth_counts_brackets_outside_strings_only() {
        assert!(check_depth(br#"{"a":{"b":[1]}}"#, 3).is_ok());
        assert!(check_depth(br#"{"a":{"b":[[1]]}}"#, 3).is_err());
        assert!(check_depth(br#"{"a":"[[[[[[[[{{{{{{"}"#, 1).is_ok());
        assert!(check_depth(br#"{"a":"\"[[[[[[\\"}"#, 1).is_ok());
        assert!(check_depth(br#"{"a":"\\","b":[[1]]}"#, 2).is_err());
    }

    #[test]
    fn split_needs_exactly_three_segments() {
        assert!(split("a.b.c").is_ok());
        assert!(split("a.b").is_err());
        assert!(split("a.b.c.d").is_err());
        assert_eq!(split("..").unwrap(), ["", "", ""]);
    }

    #[test]
    fn duplicate_members_are_refused() {
        let dup = URL_SAFE_NO_PAD.encode(r#"{"exp":1,"exp":2}"#);
        assert_eq!(decode_object(&dup, "p"), Err(AuthError::Malformed("p")));
        let ok = URL_SAFE_NO_PAD.encode(r#"{"exp":1,"x":{"exp":2}}"#);
        assert_eq!(decode_object(&ok, "p").unwrap().len(), 2);
    }

    #[test]
    fn akid_is_optional_and_typed() {
        let claims = |akid: Option<Value>| {
            let mut v = serde_json::json!({"exp": 2, "nbf": 1, "iat": 1, "iss": "i", "aud": "a",
                "sub": "s", "tenant": "t", "room": "r", "role": "agent", "jti": "j",
                "grants": {"canChat": true}});
            if let Some(a) = akid {
                v["akid"] = a;
            }
            typed_claims(v.as_object().unwrap())
        };
        assert_eq!(claims(None).unwrap().akid, None);
        assert_eq!(
            claims(Some("key_x1".into())).unwrap().akid.as_deref(),
            Some("key_x1")
        );
        for bad in [
            serde_json::json!(7),
            serde_json::json!(""),
            serde_json::json!("key x"),
            serde_json::json!(["key_x"]),
            serde_json::json!(null),
        ] {
            assert_eq!(
                claims(Some(bad.clone())).unwrap_err(),
                AuthError::ClaimInvalid("akid"),
                "{bad}"
            );
        }
    }

    #[test]
    fn header_allowlist_is_case_sensitive_and_strict() {
        let header = |v: Value| v.as_object().unwrap().clone();
        let h = header(serde_json::json!({"alg": "EdDSA", "kid": "k", "typ": "JWT"}));
        assert_eq!(check_header(&h, false).unwrap().kid, "k");
        for alg in [
            "none", "None", "NONE", "nOnE", "eddsa", "EDDSA", "HS256", "",
        ] {
            let h = header(serde_json::json!({"alg": alg, "kid": "k"}));
            assert_eq!(
                check_header(&h, false).unwrap_err(),
                AuthError::AlgorithmNotAllowed,
                "{alg}"
            );
        }
        let h = header(serde_json::json!({"alg": "HS256", "kid": "k"}));
        assert_eq!(check_header(&h, true).unwrap().alg, Algorithm::HS256);
        let h = header(serde_json::json!({"alg": "EdDSA", "kid": "k", "jku": "x"}));
        assert_eq!(
            check_header(&h, false).unwrap_err(),
            AuthError::HeaderForbidden("jku")
        );
    }
}

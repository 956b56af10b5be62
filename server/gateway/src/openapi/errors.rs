//! The error responses of the document: every error answer is `{"error":{"code","message"}}`
//! ([`crate::error::ApiError`]), and each operation lists, per status, the exact `code`s it
//! may answer with (a JSON Schema `enum`), so a client can switch on them and the API test
//! (scripts/check-openapi.sh) fails when a handler answers a code the document does not name.
//!
//! [`api_errors!`] declares an operation's table next to its handler; the groups below are
//! the codes an extractor or a shared failure brings to every operation that uses it.

use std::collections::BTreeMap;

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Response};

/// A JSON body that does not parse or fit ([`crate::extract::ApiJson`]): 400.
pub const JSON_400: &[&str] = &["malformed_json", "invalid_request", "bad_body"];
/// A JSON body over `server.body_limit_bytes`.
pub const JSON_413: &[&str] = &["body_too_large"];
/// A body without `Content-Type: application/json`.
pub const JSON_415: &[&str] = &["unsupported_media_type"];

/// `Authorization: Bearer` absent or not of that form.
pub const BEARER_401: &[&str] = &["missing_credentials", "malformed_credentials"];
/// A tenant API key that is not valid or revoked ([`crate::extract::TenantKey`]).
pub const API_KEY_401: &[&str] = &["invalid_api_key", "revoked_api_key"];
/// A participant JWT refused by the one validator or by its API key
/// ([`crate::token_auth::TokenRefusal`], `hushpay_auth::AuthError`).
pub const JWT_401: &[&str] = &[
    "token_too_large",
    "token_malformed",
    "token_too_deep",
    "algorithm_not_allowed",
    "kid_missing",
    "kid_unknown",
    "header_forbidden",
    "signature_invalid",
    "claim_missing",
    "claim_invalid",
    "token_expired",
    "token_not_yet_valid",
    "wrong_audience",
    "wrong_issuer",
    "token_invalid",
    "token_revoked",
    "token_unbound",
];
/// The store did not answer ([`crate::error::ApiError`] from `StoreError`).
pub const STORE_503: &[&str] = &["store_unavailable"];
/// An audited operation whose audit entry could not be written (audit or deny).
pub const AUDIT_503: &[&str] = &["audit_unavailable"];
/// A server-side failure (a bug or a broken dependency), answered without detail.
pub const INTERNAL_500: &[&str] = &["internal"];

/// Declares `$name`, an [`utoipa::IntoResponses`] of error answers: for each status, the
/// codes (groups of codes from this module, or literal lists) it may carry. `500 internal`
/// is added to every table (a handler that panics answers it).
///
/// ```ignore
/// api_errors!(CreateErrors {
///     400 => [errors::JSON_400, &["ttl_zero"]],
///     401 => [errors::BEARER_401, errors::API_KEY_401],
/// });
/// ```
#[macro_export]
macro_rules! api_errors {
    ($name:ident { $($status:literal => [$($codes:expr),* $(,)?]),* $(,)? }) => {
        /// The error answers of one operation (for the OpenAPI document).
        #[derive(Debug)]
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
            > {
                $crate::openapi::errors::table(&[
                    $(($status, &[$($codes),*])),*
                ])
            }
        }
    };
}

/// The responses of an error table (see [`api_errors!`]).
pub fn table(rows: &[(u16, &[&[&str]])]) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for (status, groups) in rows {
        let codes = by_status.entry(*status).or_default();
        codes.extend(groups.iter().flat_map(|g| g.iter().copied()));
    }
    by_status
        .entry(500)
        .or_default()
        .extend(INTERNAL_500.iter().copied());
    by_status
        .into_iter()
        .map(|(status, mut codes)| {
            codes.sort_unstable();
            codes.dedup();
            (status.to_string(), RefOr::T(response(&codes)))
        })
        .collect()
}

fn response(codes: &[&str]) -> Response {
    let code = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().copied()));
    let error = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("code", code)
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .required("code")
        .required("message");
    let body = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("error", error)
        .required("error");
    let list = codes
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    ResponseBuilder::new()
        .description(format!("Error; `error.code` is one of {list}."))
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(body)).build(),
        )
        .build()
}

//! Integration tests for hushpay-auth (one test binary; modules by subject).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod corpus;
mod jwks;
mod keys;
mod mint;
mod props;
mod support;

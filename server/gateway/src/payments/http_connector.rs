//! `http`: a generic relay to a processor. A configured JSON request template with card-field
//! placeholders is rendered inside the vault boundary (in a zeroizing buffer, never logged),
//! sent with reqwest over rustls TLS to an allowlisted host (https only, no redirects), and
//! the JSON response is mapped to approved or declined with an authorization code.
//!
//! Placeholders: `{{card.number}}`, `{{card.exp_month}}`, `{{card.exp_year}}`,
//! `{{card.cvc}}`, `{{amount}}`, `{{currency}}`, `{{reference}}`, `{{capture}}` (`true` for
//! `charge`, `false` for `authorize`), `{{stored_credential}}` (`none`, `initial` for the
//! first payment of a card being saved, `subsequent` for a charge of a saved card) and
//! `{{initiator}}` (`customer`, or `merchant` for a saved card's charge). Values are inserted JSON-escaped (put string
//! placeholders inside quotes in the template).
//!
//! Capture, void and refund (issue 17) go to their own URLs (`[payments.http.capture]`,
//! `.void`, `.refund`), each with a template of [`OPERATION_PLACEHOLDERS`] (never card data:
//! the processor knows the card by its authorization), and their answers are read with the
//! same pointers: `approved_values` at `approved_pointer` is success, anything else a
//! failure named by `decline_code_pointer`. An operation without its section fails
//! (`processing-error`).

use std::time::Duration;

use async_trait::async_trait;
use hushpay_vault::connector::{
    AuthorizationRequest, AuthorizationResult, Connector, DeclineReason, OperationRequest,
    OperationResult,
};
use serde::Deserialize;
use zeroize::Zeroizing;

/// The placeholders the authorization template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "card.number",
    "card.exp_month",
    "card.exp_year",
    "card.cvc",
    "amount",
    "currency",
    "reference",
    "capture",
    "stored_credential",
    "initiator",
];

/// The placeholders a capture, void or refund template may use.
pub const OPERATION_PLACEHOLDERS: &[&str] = &[
    "authorization_code",
    "payment_id",
    "refund_id",
    "amount",
    "currency",
    "reference",
];

/// `[payments.http.capture]`, `.void`, `.refund`: where one operation goes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOperation {
    /// https, with a host in `allowed_hosts`.
    pub url: String,
    pub body_template: String,
}

/// `[payments.http]` as written. `Debug` hides header values (processor credentials).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttpConnector {
    pub url: String,
    pub allowed_hosts: Vec<String>,
    pub body_template: String,
    /// Static request headers (API keys of the processor); never logged.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// JSON pointer to the field saying whether it was approved (`/status`).
    pub approved_pointer: String,
    /// Values of that field meaning approved (`["approved"]`).
    pub approved_values: Vec<String>,
    /// JSON pointer to the authorization code (`/authorization_code`).
    pub authorization_code_pointer: String,
    /// JSON pointer to a decline code (`/decline_code`), mapped to decline reasons.
    pub decline_code_pointer: Option<String>,
    /// Extra trusted root certificate (PEM), e.g. a private processor CA.
    pub ca_file: Option<std::path::PathBuf>,
    pub timeout_secs: Option<u64>,
    /// Capturing an `authorize`-mode payment.
    pub capture: Option<RawOperation>,
    /// Voiding one.
    pub void: Option<RawOperation>,
    /// Refunding a charged or captured payment.
    pub refund: Option<RawOperation>,
}

impl std::fmt::Debug for RawHttpConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawHttpConnector")
            .field("url", &self.url)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Why an `[payments.http]` section is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpConnectorError {
    #[error("payments.http.url must be https:// with a host in payments.http.allowed_hosts")]
    Url,
    #[error("payments.http.body_template uses an unknown placeholder; known: {}", PLACEHOLDERS.join(", "))]
    Placeholder,
    #[error("payments.http: {0}")]
    Invalid(&'static str),
    #[error("payments.http.ca_file: {0}")]
    Ca(String),
}

/// The relay connector.
#[derive(Debug)]
pub struct HttpConnector {
    raw: RawHttpConnector,
    url: url::Url,
    capture: Option<(url::Url, String)>,
    void: Option<(url::Url, String)>,
    refund: Option<(url::Url, String)>,
    client: reqwest::Client,
}

/// The URL parsed once (the parser reqwest uses, so the host checked against
/// `allowed_hosts` is the host connected to): https, no userinfo, no backslash.
fn parse_url(text: &str) -> Option<(url::Url, String)> {
    if text.contains('\\') {
        return None;
    }
    let url = url::Url::parse(text).ok()?;
    if url.scheme() != "https" || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let host = url.host_str()?.to_owned();
    Some((url, host))
}

/// The placeholder names in `template`, in order.
fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push("");
            break;
        };
        out.push(&after[..end]);
        rest = &after[end + 2..];
    }
    out
}

fn json_escaped(value: &str) -> Zeroizing<String> {
    let quoted = Zeroizing::new(serde_json::Value::String(value.to_owned()).to_string());
    Zeroizing::new(quoted[1..quoted.len() - 1].to_owned())
}

/// `text` parsed, when its host is allowlisted.
fn allowed_url(raw: &RawHttpConnector, text: &str) -> Result<url::Url, HttpConnectorError> {
    let (url, host) = parse_url(text).ok_or(HttpConnectorError::Url)?;
    if raw
        .allowed_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&host))
    {
        Ok(url)
    } else {
        Err(HttpConnectorError::Url)
    }
}

/// An operation's section checked: its URL allowlisted, its template free of card data.
fn operation(
    raw: &RawHttpConnector,
    op: Option<&RawOperation>,
) -> Result<Option<(url::Url, String)>, HttpConnectorError> {
    let Some(op) = op else { return Ok(None) };
    let url = allowed_url(raw, &op.url)?;
    if placeholders(&op.body_template)
        .iter()
        .any(|p| !OPERATION_PLACEHOLDERS.contains(p))
    {
        return Err(HttpConnectorError::Placeholder);
    }
    Ok(Some((url, op.body_template.clone())))
}

/// Renders an operation's template (no card data in it).
fn render_operation(template: &str, r: &OperationRequest<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").unwrap_or(after.len());
        let value: String = match &after[..end] {
            "authorization_code" => json_escaped(r.authorization_code).to_string(),
            "payment_id" => json_escaped(r.payment).to_string(),
            "refund_id" => json_escaped(r.refund.unwrap_or_default()).to_string(),
            "amount" => r.amount_minor.to_string(),
            "currency" => json_escaped(r.currency).to_string(),
            "reference" => json_escaped(r.reference).to_string(),
            _ => String::new(),
        };
        out.push_str(&value);
        rest = after.get(end + 2..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

impl HttpConnector {
    /// Checks the configuration and builds the TLS client (rustls).
    pub fn new(raw: RawHttpConnector) -> Result<HttpConnector, HttpConnectorError> {
        let url = allowed_url(&raw, &raw.url)?;
        if placeholders(&raw.body_template)
            .iter()
            .any(|p| !PLACEHOLDERS.contains(p))
        {
            return Err(HttpConnectorError::Placeholder);
        }
        let capture = operation(&raw, raw.capture.as_ref())?;
        let void = operation(&raw, raw.void.as_ref())?;
        let refund = operation(&raw, raw.refund.as_ref())?;
        if raw.approved_values.is_empty() {
            return Err(HttpConnectorError::Invalid(
                "approved_values must not be empty",
            ));
        }
        for p in [&raw.approved_pointer, &raw.authorization_code_pointer]
            .into_iter()
            .chain(raw.decline_code_pointer.as_ref())
        {
            if !p.starts_with('/') {
                return Err(HttpConnectorError::Invalid("pointers start with `/`"));
            }
        }
        let timeout = Duration::from_secs(raw.timeout_secs.unwrap_or(20).clamp(1, 120));
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            // HTTP(S)_PROXY / ALL_PROXY in the environment must not route card traffic
            // through a host the operator did not allowlist.
            .no_proxy()
            .timeout(timeout);
        if let Some(path) = &raw.ca_file {
            let pem = std::fs::read(path).map_err(|e| HttpConnectorError::Ca(e.to_string()))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| HttpConnectorError::Ca(e.to_string()))?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .build()
            .map_err(|e| HttpConnectorError::Ca(e.to_string()))?;
        Ok(HttpConnector {
            raw,
            url,
            capture,
            void,
            refund,
            client,
        })
    }

    /// Renders the template for one request. Card data: the result must never be logged.
    fn render(&self, r: &AuthorizationRequest<'_>) -> Zeroizing<String> {
        let card = r.card;
        let mut out = Zeroizing::new(String::with_capacity(self.raw.body_template.len() + 64));
        let mut rest = self.raw.body_template.as_str();
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").unwrap_or(after.len());
            let value: Zeroizing<String> = match &after[..end] {
                "card.number" => Zeroizing::new(card.pan.expose_digits().to_owned()),
                "card.exp_month" => Zeroizing::new(card.expiry.month().to_string()),
                "card.exp_year" => Zeroizing::new(card.expiry.year().to_string()),
                "card.cvc" => Zeroizing::new(
                    card.cvc
                        .as_ref()
                        .map_or(String::new(), |c| c.expose_digits().to_owned()),
                ),
                "amount" => Zeroizing::new(r.amount_minor.to_string()),
                "currency" => json_escaped(r.currency),
                "reference" => json_escaped(r.reference),
                "capture" => Zeroizing::new(r.capture.to_string()),
                "stored_credential" => Zeroizing::new(r.stored_credential.as_str().to_owned()),
                "initiator" => Zeroizing::new(r.stored_credential.initiator().to_owned()),
                _ => Zeroizing::new(String::new()),
            };
            out.push_str(&value);
            rest = after.get(end + 2..).unwrap_or("");
        }
        out.push_str(rest);
        out
    }

    fn map_response(&self, body: &[u8]) -> AuthorizationResult {
        match self.verdict(body) {
            Ok(Some(code)) if (1..=64).contains(&code.len()) => AuthorizationResult::Approved {
                authorization_code: code,
            },
            Ok(_) => AuthorizationResult::Declined {
                reason: DeclineReason::ProcessingError,
            },
            Err(reason) => AuthorizationResult::Declined { reason },
        }
    }

    /// A processor's answer read with the configured pointers: approved (with the
    /// authorization code, if there is one), or why not.
    fn verdict(&self, body: &[u8]) -> Result<Option<String>, DeclineReason> {
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Err(DeclineReason::ProcessingError);
        };
        let text = |pointer: &str| {
            json.pointer(pointer).and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
        };
        let approved =
            text(&self.raw.approved_pointer).is_some_and(|v| self.raw.approved_values.contains(&v));
        if approved {
            return Ok(text(&self.raw.authorization_code_pointer));
        }
        let code = self
            .raw
            .decline_code_pointer
            .as_deref()
            .and_then(text)
            .unwrap_or_default()
            .to_ascii_lowercase()
            .replace('-', "_");
        let reason = match code.as_str() {
            "insufficient_funds" => DeclineReason::InsufficientFunds,
            "invalid_cvc" | "incorrect_cvc" | "invalid_security_code" => {
                DeclineReason::InvalidSecurityCode
            }
            "processing_error" => DeclineReason::ProcessingError,
            _ => DeclineReason::CardDeclined,
        };
        Err(reason)
    }

    /// POSTs `body` to `url` with the configured headers; the answer's body when the
    /// processor answered 2xx with at most 64 KiB. Failures are logged without the body.
    async fn post(&self, url: url::Url, body: String) -> Option<bytes::Bytes> {
        let mut req = self
            .client
            .post(url)
            .header("content-type", "application/json");
        for (k, v) in &self.raw.headers {
            req = req.header(k, v);
        }
        let response = match req.body(body).send().await {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => {
                tracing::warn!(
                    status = r.status().as_u16(),
                    "http connector: processor refused"
                );
                return None;
            }
            Err(e) => {
                tracing::warn!(
                    timeout = e.is_timeout(),
                    connect = e.is_connect(),
                    "http connector: transport failure"
                );
                return None;
            }
        };
        match response.bytes().await {
            Ok(b) if b.len() <= 64 * 1024 => Some(b),
            _ => None,
        }
    }

    /// A capture, void or refund through its section (`name` for the log).
    async fn operate(
        &self,
        section: Option<&(url::Url, String)>,
        name: &'static str,
        request: &OperationRequest<'_>,
    ) -> OperationResult {
        let failed = |reason| OperationResult::Failed { reason };
        let Some((url, template)) = section else {
            tracing::warn!(operation = name, "http connector: operation not configured");
            return failed(DeclineReason::ProcessingError);
        };
        let body = render_operation(template, request);
        let Some(answer) = self.post(url.clone(), body).await else {
            return failed(DeclineReason::ProcessingError);
        };
        match self.verdict(&answer) {
            Ok(_) => OperationResult::Succeeded,
            Err(reason) => failed(reason),
        }
    }
}

#[async_trait]
impl Connector for HttpConnector {
    fn name(&self) -> &str {
        "http"
    }

    async fn authorize(&self, request: &AuthorizationRequest<'_>) -> AuthorizationResult {
        let body = self.render(request);
        // The body is copied once into the request; reqwest owns and drops that copy.
        let sent = self.post(self.url.clone(), body.as_str().to_owned()).await;
        drop(body);
        match sent {
            Some(answer) => self.map_response(&answer),
            None => AuthorizationResult::Declined {
                reason: DeclineReason::ProcessingError,
            },
        }
    }

    async fn capture(&self, request: &OperationRequest<'_>) -> OperationResult {
        self.operate(self.capture.as_ref(), "capture", request)
            .await
    }

    async fn void(&self, request: &OperationRequest<'_>) -> OperationResult {
        self.operate(self.void.as_ref(), "void", request).await
    }

    async fn refund(&self, request: &OperationRequest<'_>) -> OperationResult {
        self.operate(self.refund.as_ref(), "refund", request).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hushpay_vault::connector::StoredCredential;

    pub(crate) fn raw(url: &str) -> RawHttpConnector {
        RawHttpConnector {
            url: url.into(),
            allowed_hosts: vec!["processor.example".into()],
            body_template: r#"{"n":"{{card.number}}","m":{{card.exp_month}},"r":"{{reference}}"}"#
                .into(),
            approved_pointer: "/status".into(),
            approved_values: vec!["approved".into()],
            authorization_code_pointer: "/auth/code".into(),
            decline_code_pointer: Some("/decline".into()),
            ..RawHttpConnector::default()
        }
    }

    #[test]
    fn configuration_is_checked() {
        assert!(HttpConnector::new(raw("https://processor.example/v1/auth")).is_ok());
        for url in [
            "http://processor.example/",
            "https://evil.example/",
            "https://user@processor.example/",
            "https://processor.example.evil.example/",
            "https://processor.example\\@evil.example/",
            "https://evil.example\\.processor.example/",
        ] {
            assert_eq!(
                HttpConnector::new(raw(url)).unwrap_err(),
                HttpConnectorError::Url,
                "{url}"
            );
        }
        let mut bad = raw("https://processor.example/");
        bad.body_template = "{{card.pin}}".into();
        assert_eq!(
            HttpConnector::new(bad).unwrap_err(),
            HttpConnectorError::Placeholder
        );
        let mut bad = raw("https://processor.example/");
        bad.body_template = "{{card.number".into();
        assert_eq!(
            HttpConnector::new(bad).unwrap_err(),
            HttpConnectorError::Placeholder
        );
    }

    #[test]
    fn responses_map_to_results() {
        let c = HttpConnector::new(raw("https://processor.example/")).unwrap();
        let approved = c.map_response(br#"{"status":"approved","auth":{"code":"A1B2"}}"#);
        assert_eq!(
            approved,
            AuthorizationResult::Approved {
                authorization_code: "A1B2".into()
            }
        );
        let declined = |b: &[u8]| match c.map_response(b) {
            AuthorizationResult::Declined { reason } => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            declined(br#"{"status":"declined","decline":"insufficient-funds"}"#),
            DeclineReason::InsufficientFunds
        );
        assert_eq!(
            declined(br#"{"status":"declined","decline":"incorrect_cvc"}"#),
            DeclineReason::InvalidSecurityCode
        );
        assert_eq!(
            declined(br#"{"status":"declined"}"#),
            DeclineReason::CardDeclined
        );
        assert_eq!(
            declined(br#"{"status":"approved"}"#),
            DeclineReason::ProcessingError,
            "no code"
        );
        assert_eq!(declined(b"<html>"), DeclineReason::ProcessingError);
    }

    #[test]
    fn the_template_renders_escaped_values() {
        use hushpay_card::{Expiry, Pan};
        let c = HttpConnector::new(raw("https://processor.example/")).unwrap();
        let card = hushpay_vault::OpenedCard {
            pan: Pan::parse("4242424242424242").unwrap(),
            expiry: Expiry::new(7, 2031).unwrap(),
            cvc: None,
        };
        let r = AuthorizationRequest {
            card: &card,
            amount_minor: 5,
            currency: "USD",
            reference: "a\"b",
            capture: true,
            stored_credential: StoredCredential::None,
        };
        let body = c.render(&r);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["n"], "4242424242424242");
        assert_eq!(v["m"], 7);
        assert_eq!(v["r"], "a\"b");
    }

    #[test]
    fn the_template_passes_the_stored_credential_indicators() {
        use hushpay_card::{Expiry, Pan};
        let mut cfg = raw("https://processor.example/");
        cfg.body_template =
            r#"{"sc":"{{stored_credential}}","by":"{{initiator}}","c":"{{card.cvc}}"}"#.into();
        let c = HttpConnector::new(cfg).unwrap();
        let card = hushpay_vault::OpenedCard {
            pan: Pan::parse("4242424242424242").unwrap(),
            expiry: Expiry::new(7, 2031).unwrap(),
            cvc: None,
        };
        for (flag, sc, by) in [
            (StoredCredential::None, "none", "customer"),
            (StoredCredential::Initial, "initial", "customer"),
            (StoredCredential::Subsequent, "subsequent", "merchant"),
        ] {
            let body = c.render(&AuthorizationRequest {
                card: &card,
                amount_minor: 5,
                currency: "USD",
                reference: "plan-1",
                capture: true,
                stored_credential: flag,
            });
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!((v["sc"].as_str(), v["by"].as_str()), (Some(sc), Some(by)));
            // A saved card's charge carries no CVC: the placeholder renders empty.
            assert_eq!(v["c"], "");
        }
    }

    #[test]
    fn operation_sections_are_checked_and_carry_no_card_data() {
        let op = |url: &str, body: &str| RawOperation {
            url: url.into(),
            body_template: body.into(),
        };
        let mut ok = raw("https://processor.example/auth");
        ok.capture = Some(op(
            "https://processor.example/capture",
            r#"{"a":"{{authorization_code}}","n":{{amount}},"p":"{{payment_id}}"}"#,
        ));
        ok.refund = Some(op(
            "https://processor.example/refund",
            r#"{"r":"{{refund_id}}","c":"{{currency}}","ref":"{{reference}}"}"#,
        ));
        assert!(HttpConnector::new(ok.clone()).is_ok());
        let mut card = ok.clone();
        card.void = Some(op(
            "https://processor.example/void",
            r#"{"n":"{{card.number}}"}"#,
        ));
        assert_eq!(
            HttpConnector::new(card).unwrap_err(),
            HttpConnectorError::Placeholder,
            "no card placeholder in an operation"
        );
        let mut elsewhere = ok.clone();
        elsewhere.refund = Some(op("https://evil.example/refund", "{}"));
        assert_eq!(
            HttpConnector::new(elsewhere).unwrap_err(),
            HttpConnectorError::Url
        );
        let mut plain = ok;
        plain.capture = Some(op("http://processor.example/capture", "{}"));
        assert_eq!(
            HttpConnector::new(plain).unwrap_err(),
            HttpConnectorError::Url
        );
    }

    #[test]
    fn operation_templates_render_escaped_values() {
        let r = OperationRequest {
            payment: "pay_1",
            authorization_code: "A\"1",
            amount_minor: 250,
            currency: "USD",
            reference: "inv\n7",
            refund: Some("re_9"),
        };
        let body = render_operation(
            r#"{"a":"{{authorization_code}}","n":{{amount}},"p":"{{payment_id}}","r":"{{refund_id}}","c":"{{currency}}","ref":"{{reference}}"}"#,
            &r,
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["a"], "A\"1");
        assert_eq!(v["n"], 250);
        assert_eq!(
            (v["p"].as_str(), v["r"].as_str()),
            (Some("pay_1"), Some("re_9"))
        );
        assert_eq!(v["ref"], "inv\n7");
        let c = HttpConnector::new(raw("https://processor.example/")).unwrap();
        assert_eq!(c.verdict(br#"{"status":"approved"}"#), Ok(None));
        assert_eq!(
            c.verdict(br#"{"status":"failed","decline":"processing_error"}"#),
            Err(DeclineReason::ProcessingError)
        );
    }
}

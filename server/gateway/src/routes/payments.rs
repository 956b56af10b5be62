//! Payment sessions over HTTP.
//!
//! * `POST /v1/payments` (tenant API key, or agent/supervisor JWT with `canRequestPayment`;
//!   `Idempotency-Key` required): creates a payment; for the tenant's backend card-form and
//!   link payments come with a `client_secret` (shown once) and link payments with their
//!   `link_url` (`#pcs_...` fragment). An agent gets neither secret nor fragment
//!   ([`access`]): the secret reaches the patient only. A payment bound to a room (an
//!   agent's are bound to its own) is offered to that room's patient ([`payment_offer`]);
//!   `offered` says whom it reached.
//! * `GET /v1/payments/{id}`: the masked payment for the tenant or the agent; with
//!   `Bearer pcs_...` (the patient's page) only amount, currency, reference, required fields,
//!   allowed brands and state.
//! * `POST /v1/payments/{id}/card` (`Bearer pcs_...`): `{"sealed": <SealedCard>}` sealed to
//!   the vault key with `Binding { tenant, session: payment id }`.
//! * `POST /v1/payments/{id}/capture|re-ask` `{"field": "..."}`, `/cancel`, `/complete`:
//!   agent commands.

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hushpay_card::sealed::{self, Binding, SealedCard};
use hushpay_vault::Actor;
use hushpay_vault::payment::{Field, HandOff, Method, Mode, Payment, PaymentRequest};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};
use crate::openapi::errors;
use crate::openapi::schemas;
use crate::payments::access::{self, RequestRefusal, Viewer};
use crate::payments::{Loaded, PaymentError, PaymentService};
use crate::routes::card_tokens::{open_error, request_id};
use crate::sfu::{ivr_call, payment_offer};

/// Why an `ivr` payment cannot be created in its room.
fn ivr_error(e: ivr_call::IvrStartError) -> ApiError {
    match e {
        ivr_call::IvrStartError::NoPatient => ApiError::new(
            StatusCode::CONFLICT,
            "patient_not_in_room",
            "an ivr payment needs the room's patient connected with audio",
        ),
        ivr_call::IvrStartError::Busy => ApiError::new(
            StatusCode::CONFLICT,
            "room_busy",
            "an IVR or a keypad collection is already running in this room",
        ),
        ivr_call::IvrStartError::Prompts => ApiError::internal("IVR prompts", &e),
    }
}

/// The body of `POST /v1/payments`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": 1250, "currency": "USD", "reference": "invoice-1042",
    "mode": "tokenize", "method": "card-form"}))]
pub struct CreatePayment {
    /// Minor units (cents).
    #[schema(minimum = 1, maximum = 100_000_000_000_u64)]
    pub amount: u64,
    /// An active ISO 4217 code, upper case.
    #[schema(pattern = "^[A-Z]{3}$", example = "USD")]
    pub currency: String,
    /// The tenant's reference (invoice, visit): 1-128 characters, no control characters,
    /// nothing that looks like a card number.
    #[schema(min_length = 1, max_length = 128)]
    pub reference: String,
    #[schema(value_type = schemas::Mode)]
    pub mode: Mode,
    #[schema(value_type = schemas::Method)]
    pub method: Method,
    /// Default: card number, expiry and security code.
    #[schema(value_type = Option<Vec<schemas::Field>>)]
    pub required_fields: Option<Vec<Field>>,
    /// Brand ids (`visa`, `mastercard`, ...); default: every brand.
    pub allowed_brands: Option<Vec<String>>,
    /// Failed entries or submissions allowed before the payment fails (default 3).
    #[schema(minimum = 1, maximum = 5)]
    pub attempts: Option<u8>,
    /// Seconds (default 900).
    #[schema(minimum = 30, maximum = 86_400)]
    pub timeout: Option<u32>,
    /// The room whose patient keys the digits (keypad; an agent's own room by default).
    pub room: Option<String>,
    /// `sip`: a third-party IVR hands its caller over for this `ivr` payment (no `room`):
    /// it transfers the caller to `sip_uri`, Hushpay runs the payment's prompts and sends the
    /// caller back. Default `room`.
    #[schema(value_type = Option<PaymentChannel>)]
    pub channel: Option<PaymentChannel>,
    /// With `channel: "sip"`: where the caller goes back to when the payment ends (a REFER
    /// to this `sip:` or `sips:` URI, the result in `X-Hushpay-*` headers); absent: the call
    /// is ended with a BYE carrying them.
    #[schema(max_length = 256)]
    pub return_uri: Option<String>,
    /// The patient's language, BCP 47 with an optional region: `en` (default), `es`, `es-US`,
    /// `es-419`... It picks the IVR's prompts and the card form's and pay page's strings and
    /// number and date formats. A language without prompts and strings is refused
    /// (`invalid_locale`).
    #[schema(
        max_length = 16,
        pattern = "^[A-Za-z]{2}(-([A-Za-z]{2}|[0-9]{3}))?$",
        example = "es-US"
    )]
    pub locale: Option<String>,
}

/// How the payer reaches the payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PaymentChannel {
    /// The patient of a Hushpay room (browser or phone caller).
    Room,
    /// A caller a third-party IVR transfers to Hushpay by SIP.
    Sip,
}

/// The body of `capture` and `re-ask`: the field to (re-)collect.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldCommand {
    #[schema(value_type = schemas::Field)]
    pub field: Field,
}

/// The body of `POST /v1/payments/{id}/card`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitCard {
    /// Sealed to the vault key with the binding tenant = the payment's tenant, session = the
    /// payment id.
    #[schema(value_type = schemas::SealedCard)]
    pub sealed: SealedCard,
}

/// A payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentBody {
    #[schema(value_type = schemas::Payment)]
    pub payment: serde_json::Value,
    /// (The client secret's holder only, while the payment is `authenticating`) the issuer's
    /// 3-D Secure challenge page to show the cardholder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication: Option<ChallengePage>,
}

/// A 3-D Secure challenge page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengePage {
    /// An absolute `https://` URL, or a path on the gateway's origin (the sandbox).
    pub url: String,
}

/// A payment as its credential may see it: the whole masked payment for the tenant and its
/// agents, or the patient's view for the client secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documentation only: `show` builds these bodies as JSON values
pub enum PaymentView {
    Full(Box<schemas::Payment>),
    Patient(schemas::PatientPayment),
}

/// `GET /v1/payments/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShownPayment {
    pub payment: PaymentView,
    /// (The client secret's holder only, while the payment is `authenticating`) the issuer's
    /// 3-D Secure challenge page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authentication: Option<ChallengePage>,
}

/// A created (or replayed) payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedPayment {
    #[schema(value_type = schemas::Payment)]
    pub payment: serde_json::Value,
    /// `pcs_...` (card-form and link payments, for the tenant's backend only; shown once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The pay-by-link page (link payments); with `#pcs_...` for the tenant's backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_url: Option<String>,
    /// Where a third-party IVR transfers its caller (`channel: "sip"`, when this gateway's SIP
    /// listener is configured): `sip:<payment id>@<sip.advertise>:<port>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip_uri: Option<String>,
    /// Whom the offer reached (a new payment bound to a room; null when the room's node did
    /// not say).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<payment_offer::Offered>)]
    pub offered: Option<serde_json::Value>,
}

/// What a payment operation on an existing payment may answer.
pub(super) const PAYMENT_409: &[&str] = &[
    "invalid_state",
    "payment_already_completed",
    "payment_busy",
    "keypad_digits_missing",
    "not_keypad",
    "not_ivr",
];
pub(crate) const PAYMENT_503: &[&str] =
    &["room_unreachable", "audit_unavailable", "store_unavailable"];

crate::api_errors!(CreateErrors {
    400 => [errors::JSON_400, &["idempotency_key_required", "invalid_idempotency_key"]],
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    403 => [&["wrong_role", "missing_grant", "wrong_room"]],
    409 => [&["patient_not_in_room", "room_busy"], PAYMENT_409],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    422 => [&["invalid_amount", "invalid_currency", "invalid_reference", "invalid_required_fields",
        "invalid_allowed_brands", "invalid_attempts", "invalid_timeout", "invalid_room",
        "invalid_hand_off", "invalid_locale", "idempotency_key_reused"]],
    502 => [&["room_unreachable"]],
    503 => [PAYMENT_503],
});

crate::api_errors!(ShowErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401, &["invalid_client_secret"]],
    403 => [&["wrong_payment"]],
    404 => [&["payment_not_found"]],
    503 => [errors::STORE_503],
});

crate::api_errors!(CardErrors {
    400 => [errors::JSON_400, &["unknown_kid", "sealed_card_unreadable", "invalid_sealed_card"]],
    401 => [&["invalid_client_secret"], errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    404 => [&["payment_not_found"]],
    409 => [PAYMENT_409],
    410 => [&["payment_link_used"]],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    422 => [&["invalid_card", "card_rejected"]],
    503 => [PAYMENT_503],
});

crate::api_errors!(FieldCommandErrors {
    400 => [errors::JSON_400],
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    403 => [&["wrong_payment"]],
    404 => [&["payment_not_found"]],
    409 => [PAYMENT_409],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    503 => [PAYMENT_503],
});

crate::api_errors!(CommandErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    403 => [&["wrong_payment"]],
    404 => [&["payment_not_found"]],
    409 => [PAYMENT_409],
    410 => [&["payment_link_used", "token_expired"]],
    422 => [&["card_rejected"]],
    502 => [&["room_unreachable"]],
    503 => [PAYMENT_503],
});

/// The credential of a payment route: the patient's client secret or a tenant/agent caller.
#[derive(Debug)]
pub enum PaymentCredential {
    ClientSecret(String),
    Caller(Caller),
}

impl FromRequestParts<AppState> for PaymentCredential {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, token)| {
                scheme.eq_ignore_ascii_case("bearer") && token.starts_with("pcs_")
            })
            .map(|(_, token)| token.trim().to_owned());
        match secret {
            Some(s) => Ok(PaymentCredential::ClientSecret(s)),
            None => Ok(PaymentCredential::Caller(
                Caller::from_request_parts(parts, state).await?,
            )),
        }
    }
}

pub(super) fn actor(caller: &Caller, headers: &HeaderMap) -> Actor {
    let who = match caller {
        Caller::ApiKey(k) => k.id.to_string(),
        Caller::Participant(c) => access::participant_actor(c.sub.as_str()),
    };
    Actor {
        who,
        request_id: request_id(headers),
    }
}

pub(super) fn payment_body(p: &Payment) -> Json<serde_json::Value> {
    Json(json!({ "payment": p }))
}

/// What the patient's page may see.
fn patient_view(p: &Payment) -> Json<serde_json::Value> {
    Json(json!({ "payment": {
        "amount": p.amount,
        "currency": p.currency,
        "reference": p.reference,
        "required_fields": p.required_fields,
        "allowed_brands": p.allowed_brands,
        "state": p.state,
        "locale": p.locale,
    }}))
}

pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let key = headers
        .get("idempotency-key")
        .ok_or_else(|| {
            ApiError::bad_request(
                "idempotency_key_required",
                "send an `Idempotency-Key` header (1 to 255 printable ASCII characters)",
            )
        })?
        .to_str()
        .ok()
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid_idempotency_key",
                "`Idempotency-Key` must be 1 to 255 printable ASCII characters",
            )
        })?;
    Ok(key.to_owned())
}

/// Creates a payment session (`Idempotency-Key` required: a retry with the same key and
/// body answers 200 with `idempotent-replayed: true`). Card-form and link payments come with
/// a `client_secret` for the tenant's backend (never for an agent); a payment bound to a room
/// is offered to that room's patient.
#[utoipa::path(post, path = "/v1/payments", operation_id = "createPayment", tag = "payments",
    security(("api_key" = []), ("participant_jwt" = [])),
    params(("Idempotency-Key" = String, Header, description = "1 to 255 printable ASCII characters",
        pattern = "^[!-~]{1,255}$")),
    request_body = CreatePayment,
    responses(
        (status = 201, description = "Created", body = CreatedPayment,
            links(("showPayment" = (operation_id = "showPayment", parameters(("id" = "$response.body#/payment/id")))), ("capturePaymentField" = (operation_id = "capturePaymentField", parameters(("id" = "$response.body#/payment/id")))), ("reAskPaymentField" = (operation_id = "reAskPaymentField", parameters(("id" = "$response.body#/payment/id")))), ("cancelPayment" = (operation_id = "cancelPayment", parameters(("id" = "$response.body#/payment/id")))), ("completePayment" = (operation_id = "completePayment", parameters(("id" = "$response.body#/payment/id")))))),
        (status = 200, description = "A replay of the same request", body = CreatedPayment,
            headers(("idempotent-replayed" = String, description = "`true`"))),
        CreateErrors))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreatePayment>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let mut room = body.room.clone();
    match Viewer::from(&caller).may_request_payments() {
        Ok(()) => {}
        Err(RequestRefusal::Patient) => {
            return Err(ApiError::forbidden(
                "wrong_role",
                "payments are requested by the tenant backend or an agent, never a patient",
            ));
        }
        Err(RequestRefusal::MissingGrant) => {
            return Err(ApiError::forbidden(
                "missing_grant",
                "this token lacks the `canRequestPayment` grant",
            ));
        }
    }
    let hand_off = match (body.channel, &body.return_uri) {
        (Some(PaymentChannel::Sip), uri) => {
            if matches!(caller, Caller::Participant(_)) {
                return Err(ApiError::forbidden(
                    "wrong_role",
                    "a hand-off payment (`channel: \"sip\"`) is created by the tenant backend, not an agent",
                ));
            }
            Some(HandOff {
                return_uri: uri.clone(),
            })
        }
        (_, Some(_)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_hand_off",
                "`return_uri` goes with `channel: \"sip\"` only",
            ));
        }
        (_, None) => None,
    };
    if let Caller::Participant(c) = &caller {
        // An agent's payments are bound to its own room: keypad digits come from that
        // room's patient, and card-form and link payments are offered to that patient.
        if room.as_deref().is_some_and(|r| r != c.room.as_str()) {
            return Err(ApiError::forbidden(
                "wrong_room",
                "an agent may request payments in its own room only",
            ));
        }
        room = Some(c.room.as_str().to_owned());
    }
    let local_room = match room.as_deref() {
        Some(r) => {
            let key = crate::sfu::room::RoomKey {
                tenant: caller.tenant().as_str().to_owned(),
                name: r.to_owned(),
            };
            room_holder(&state, &key).await?.is_none()
        }
        None => true,
    };
    if body.method == Method::Ivr
        && hand_off.is_none()
        && local_room
        && let Some(r) = room.as_deref()
        && state
            .store
            .payment_by_idempotency_key(&caller.tenant(), &key)
            .await?
            .is_none()
    {
        // The IVR speaks to the room's patient now: refuse before creating anything if it
        // cannot (a retry of a created payment is answered as a replay below).
        ivr_call::target(&state.sfu, caller.tenant().as_str(), r).map_err(ivr_error)?;
    }
    // A payment that names no locale takes its tenant's default (English unless set).
    let locale = match body.locale {
        Some(l) => Some(l),
        None => state
            .store
            .tenant(&caller.tenant())
            .await?
            .and_then(|t| t.default_locale),
    };
    let request = PaymentRequest {
        amount: body.amount,
        currency: body.currency,
        reference: body.reference,
        mode: body.mode,
        method: body.method,
        required_fields: body.required_fields,
        allowed_brands: body.allowed_brands,
        attempts: body.attempts,
        timeout_secs: body.timeout,
        room,
        hand_off,
        locale,
    };
    let created = state
        .payments
        .create(&actor(&caller, &headers), &caller.tenant(), request, &key)
        .await?;
    let mut payment = created.payment;
    // In a cluster the room may be on another node: the IVR and the offer run there.
    let holder = room_holder_elsewhere(&state, &payment).await?;
    if !created.replayed
        && payment.method == Method::Ivr
        && let Some(node) = &holder
    {
        let req = crate::cluster::bus::Request::IvrStart {
            payment: payment.id.clone(),
        };
        if let Some(view) = ask_holder(&state, node, &req).await?
            && let Ok(p) = serde_json::from_value(view)
        {
            payment = p;
        }
    } else if !created.replayed
        && payment.method == Method::Ivr
        && payment.hand_off.is_none()
        && let Err(e) = ivr_call::start(&state, &payment).await
    {
        // Lost a race (the patient left, another IVR started): the payment ends now.
        tracing::warn!(payment = %payment.id, error = %e, "the IVR did not start");
        if let Some(ended) = ivr_call::abandon(&state, &payment, e).await {
            payment = ended;
        }
    }
    let created = crate::payments::Created { payment, ..created };
    let mut body = json!({ "payment": created.payment });
    if let Some(secret) = &created.client_secret {
        // The secret goes to the tenant's backend only; an agent's link is the page's
        // address without it (as in the agent's copy of the chat message).
        let shown = Viewer::from(&caller).may_hold_client_secret();
        if shown {
            body["client_secret"] = json!(secret.as_str());
        }
        if created.payment.method == Method::Link {
            let url = payment_offer::link_url(&state.config.public_url, &created.payment.id);
            body["link_url"] = json!(if shown {
                format!("{url}#{}", secret.as_str())
            } else {
                url
            });
        }
    }
    if created.payment.hand_off.is_some()
        && let Some(sip) = &state.config.sip
    {
        body["sip_uri"] = json!(crate::sip::hand_off::payment_uri(sip, &created.payment.id));
    }
    if !created.replayed && created.payment.room.is_some() && created.payment.hand_off.is_none() {
        let secret = created.client_secret.as_ref().map(|s| s.as_str());
        body["offered"] = match &holder {
            Some(node) => {
                let req = crate::cluster::bus::Request::Offer {
                    payment: created.payment.id.clone(),
                    client_secret: secret.map(str::to_owned),
                };
                ask_holder(&state, node, &req).await?.unwrap_or(json!(null))
            }
            None => json!(
                payment_offer::offer(
                    &state.sfu,
                    &created.payment,
                    secret,
                    &state.config.public_url
                )
                .await
            ),
        };
    }
    let status = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = (status, Json(body)).into_response();
    if created.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

pub(super) async fn load_for(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Loaded, ApiError> {
    let loaded = state.payments.load(id).await?;
    Viewer::from(caller).may_see(&loaded.payment)?;
    Ok(loaded)
}

/// The masked payment for the tenant or its agent; with `Bearer pcs_...` (the patient's
/// page) only amount, currency, reference, required fields, allowed brands and state.
#[utoipa::path(get, path = "/v1/payments/{id}", operation_id = "showPayment", tag = "payments",
    security(("api_key" = []), ("participant_jwt" = []), ("client_secret" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)")),
    responses((status = 200, description = "The payment", body = ShownPayment), ShowErrors))]
pub async fn show(
    State(state): State<AppState>,
    credential: PaymentCredential,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    match credential {
        PaymentCredential::ClientSecret(s) => {
            let loaded = state.payments.authenticate_client(&id, &s).await?;
            let mut view = patient_view(&loaded.payment);
            if let Some(url) = state.payments.challenge_url(&loaded) {
                view.0["authentication"] = json!({ "url": url });
            }
            Ok(view)
        }
        PaymentCredential::Caller(c) => Ok(payment_body(&load_for(&state, &c, &id).await?.payment)),
    }
}

/// A sealed card for a card-form or link payment (the patient's page, `Bearer pcs_...`).
#[utoipa::path(post, path = "/v1/payments/{id}/card", operation_id = "submitCard", tag = "payments",
    security(("client_secret" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)")),
    request_body = SubmitCard,
    responses((status = 200, description = "The payment after the card", body = PaymentBody),
        CardErrors))]
pub async fn submit_card(
    State(state): State<AppState>,
    credential: PaymentCredential,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubmitCard>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let PaymentCredential::ClientSecret(secret) = credential else {
        return Err(ApiError::unauthorized(
            "invalid_client_secret",
            "this endpoint takes the payment's client secret (`Bearer pcs_...`)",
        ));
    };
    let payments: &PaymentService = &state.payments;
    let loaded = payments.authenticate_client(&id, &secret).await?;
    PaymentService::check_open_for_card(&loaded)?;
    if body.sealed.kid != state.vault.kid {
        return Err(ApiError::bad_request(
            "unknown_kid",
            "the sealed card names a key id this vault does not have; fetch /v1/vault/public-key",
        ));
    }
    let binding = Binding {
        tenant: &loaded.payment.tenant,
        session: &loaded.payment.id,
    };
    let card =
        sealed::open(&state.vault.hpke_secret, &body.sealed, &binding).map_err(open_error)?;
    let actor = Actor {
        who: format!("client:{id}"),
        request_id: request_id(&headers),
    };
    let done = payments.submit_card(&actor, loaded, card).await?;
    Ok(client_body(payments, &done))
}

/// The payment for the client secret's holder after a card or a 3-D Secure completion: the
/// masked payment, and while it is `authenticating` the issuer's challenge page
/// (`authentication.url`), which only this holder is ever given.
pub(crate) fn client_body(payments: &PaymentService, done: &Loaded) -> Json<serde_json::Value> {
    let mut body = json!({ "payment": done.payment });
    if let Some(url) = payments.challenge_url(done) {
        body["authentication"] = json!({ "url": url });
    }
    Json(body)
}

async fn command(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    id: &str,
    run: impl AsyncFnOnce(&PaymentService, &Actor, Loaded) -> Result<Loaded, PaymentError>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let loaded = load_for(state, caller, id).await?;
    let done = run(&state.payments, &actor(caller, headers), loaded).await?;
    Ok(payment_body(&done.payment))
}

/// Agent command: collect a field (`capture`) or ask for it again (`re-ask`).
#[utoipa::path(post, path = "/v1/payments/{id}/capture", operation_id = "capturePaymentField", tag = "payments",
    security(("api_key" = []), ("participant_jwt" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)")),
    request_body = FieldCommand,
    responses((status = 200, description = "The payment", body = PaymentBody), FieldCommandErrors))]
pub async fn capture(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FieldCommand>,
) -> Result<Json<serde_json::Value>, ApiError> {
    command(&state, &caller, &headers, &id, async |s, a, l| {
        s.capture_field(a, &l, body.field).await
    })
    .await
}

/// Agent command: cancel the payment.
#[utoipa::path(post, path = "/v1/payments/{id}/cancel", operation_id = "cancelPayment", tag = "payments",
    security(("api_key" = []), ("participant_jwt" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)")),
    responses((status = 200, description = "The payment", body = PaymentBody), CommandErrors))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    command(&state, &caller, &headers, &id, async |s, a, l| {
        s.transition(a, &l, hushpay_vault::payment::Event::Cancel)
            .await
    })
    .await
}

/// Agent command: complete the payment (tokenize, and charge in `charge` mode).
#[utoipa::path(post, path = "/v1/payments/{id}/complete", operation_id = "completePayment", tag = "payments",
    security(("api_key" = []), ("participant_jwt" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)")),
    responses((status = 200, description = "The payment", body = PaymentBody), CommandErrors))]
pub async fn complete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let loaded = load_for(&state, &caller, &id).await?;
    let actor = actor(&caller, &headers);
    // A keyed payment's digits are held on the node holding its room: complete it there.
    if let Some(node) = room_holder_elsewhere(&state, &loaded.payment).await? {
        return complete_on(&state, &node, &loaded.payment.id, actor).await;
    }
    let done = state.payments.complete(&actor, &loaded).await?;
    Ok(payment_body(&done.payment))
}

/// The cluster node holding `payment`'s room, when that is another node.
async fn room_holder_elsewhere(
    state: &AppState,
    payment: &Payment,
) -> Result<Option<String>, ApiError> {
    let Some(room) = payment.room.as_ref() else {
        return Ok(None);
    };
    let key = crate::sfu::room::RoomKey {
        tenant: payment.tenant.clone(),
        name: room.clone(),
    };
    room_holder(state, &key).await
}

/// The cluster node holding `key`, when that is another node (never on a single node).
async fn room_holder(
    state: &AppState,
    key: &crate::sfu::room::RoomKey,
) -> Result<Option<String>, ApiError> {
    let Some(cluster) = state.sfu.cluster() else {
        return Ok(None);
    };
    cluster
        .holder_elsewhere(key)
        .await
        .map_err(|e| PaymentError::RoomUnreachable(e.to_string()).into())
}

/// Asks `node` over the bus; its answer's `view`.
async fn ask_holder(
    state: &AppState,
    node: &str,
    req: &crate::cluster::bus::Request,
) -> Result<Option<serde_json::Value>, ApiError> {
    use crate::cluster::bus::Reply;
    let Some(cluster) = state.sfu.cluster() else {
        return Ok(None);
    };
    match cluster.request(node, req).await {
        Ok(Reply::Ok { view }) => Ok(view),
        Ok(Reply::Refused {
            code,
            message,
            status: Some(status),
        }) => Err(ApiError::forwarded(status, &code, message)),
        Ok(other) => Err(PaymentError::RoomUnreachable(format!("{other:?}")).into()),
        Err(e) => Err(PaymentError::RoomUnreachable(e.to_string()).into()),
    }
}

/// `complete` run by `node` over the bus; its answer as this node's.
async fn complete_on(
    state: &AppState,
    node: &str,
    id: &str,
    actor: Actor,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req = crate::cluster::bus::Request::Complete {
        payment: id.to_owned(),
        actor: actor.who,
        request_id: actor.request_id,
    };
    match ask_holder(state, node, &req).await? {
        Some(payment) => Ok(Json(json!({ "payment": payment }))),
        None => Err(PaymentError::RoomUnreachable("no answer".into()).into()),
    }
}

/// The same handler as `capture`, documented under its second path.
#[utoipa::path(post, path = "/v1/payments/{id}/re-ask", operation_id = "reAskPaymentField", tag = "payments",
    security(("api_key" = []), ("participant_jwt" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)")),
    request_body = FieldCommand,
    responses((status = 200, description = "The payment", body = PaymentBody), FieldCommandErrors))]
#[allow(dead_code)] // documentation only: the route is served by `capture`
pub(crate) fn re_ask() {}

//! The IVR in Spanish over real WebRTC on loopback: a payment created with `locale: "es-US"`
//! speaks the Spanish prompt set (prompts/es) to the patient bot, the amount with Spanish
//! number grammar ("cuarenta y dos dólares con cincuenta centavos") and the last four in
//! Spanish; the agent holds on the Spanish hold prompt; the payment succeeds. Not one digit of
//! the card reaches the agent's messages, the logs (captured at trace level on every runtime
//! thread) or the gateway's files. An unknown locale is refused before anything is created.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hushpay::ivr::config::IvrConfig;
use hushpay_card::leak_scan::{self, Net, Tracers};
use hushpay_media::opus_codec::SILENCE_20MS;
use hushpay_prompts::language::Language;
use serde_json::json;

use crate::common::assert_error;
use crate::common::cards::files_under;
use crate::ivr_audio::packets;
use crate::ivr_payment::{call, keyed_facts, payment_messages};
use crate::ivr_phone::Keying;

/// Everything the gateway logs, from every thread of the test's runtime.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A runtime like `#[tokio::test(flavor = "multi_thread", worker_threads = 2)]` whose every
/// thread (workers and blocking pool) logs at trace level into `sink`.
fn logged_runtime(sink: &Sink) -> tokio::runtime::Runtime {
    let writer = sink.clone();
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish(),
    );
    let on_start = dispatch.clone();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            // The thread's default for its whole life.
            std::mem::forget(tracing::dispatcher::set_default(&on_start));
        })
        .build()
        .unwrap()
}

#[test]
fn a_spanish_payment_is_spoken_in_spanish_and_leaves_no_card_digit_anywhere() {
    let sink = Sink::default();
    let runtime = logged_runtime(&sink);
    runtime.block_on(spanish_call(&sink));
}

async fn spanish_call(sink: &Sink) {
    let mut c = call(&[("HUSHPAY__IVR__ENTRY_TIMEOUT_SECS", "8")]).await;
    let english = Arc::clone(&c.prompts);
    c.prompts = IvrConfig::default()
        .load_language(Language::Spanish)
        .unwrap();
    let key = c.key.clone();

    // An unknown language is refused, clearly, and nothing is created (the IVR stays idle).
    let resp =
        c.gw.client
            .post(c.gw.url("/v1/payments"))
            .bearer_auth(&key)
            .header("idempotency-key", "es-refused")
            .json(&json!({"amount": 4250, "currency": "USD", "reference": "visit-9",
                          "mode": "charge", "method": "ivr", "room": "call-ivr", "locale": "fr-FR"}))
            .send()
            .await
            .unwrap();
    let message = assert_error(resp, 422, "invalid_locale").await;
    assert!(message.contains("es"), "{message}");
    assert!(!c.room.ivr.is_active());

    let payment = c
        .create(&key, json!({"room": "call-ivr", "locale": "es-us"}))
        .await;
    let began = Instant::now();
    assert_eq!(payment["locale"], "es-US", "normalised and returned");
    let id = payment["id"].as_str().unwrap().to_owned();
    let room = Arc::clone(&c.room);
    let hand_back = tokio::spawn(async move {
        while room.ivr.is_active() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Instant::now()
    });

    // Control: the English prompts last differently, so hearing Spanish is a real check.
    let ask = c.frames(&["ask-card-number"]);
    let ask_en: usize = english.clip("ask-card-number").unwrap().frames();
    assert!(ask.abs_diff(ask_en) > 20, "es {ask} vs en {ask_en} frames");

    let pan = "4242424242424242";
    let mut tracers = Tracers::new();
    tracers.add("pan", pan).unwrap();
    c.hears(&["ask-card-number"]).await;
    c.phone.press(&format!("{pan}#"), Keying::InBand).await;
    c.hears(&["ask-expiration-date"]).await;
    c.phone.press("1230", Keying::Rfc4733).await;
    c.hears(&["ask-security-code"]).await;
    c.phone.press("123#", Keying::Rfc4733).await;
    // "Usted va a pagar cuarenta y dos dólares con cincuenta centavos con la tarjeta que
    // termina en cuatro dos cuatro dos. Marque uno para confirmar..."
    let amount = Language::Spanish.amount(4250, "USD");
    assert_eq!(
        amount,
        ["n40", "y", "n2", "dolares", "con", "n50", "centavos"]
    );
    let mut confirm = vec!["confirm-paying"];
    confirm.extend(amount);
    confirm.push("confirm-card-ending");
    confirm.extend(Language::Spanish.digits("4242"));
    confirm.push("confirm-press");
    c.hears(&confirm).await;
    c.phone.press("1", Keying::Rfc4733).await;
    let done = c.ends(&id, "succeeded", "success").await;
    let handed_back = hand_back.await.unwrap();
    assert_eq!(done["locale"], "es-US");
    assert_eq!(done["card"]["last4"], "4242");

    // The agent held on the Spanish hold prompt (not the English one) and heard nothing else.
    let hold = c.prompts.clip("hold").unwrap();
    let hold_set: HashSet<&[u8]> = hold.packets().iter().map(Vec::as_slice).collect();
    let margin = Duration::from_millis(150);
    let during: Vec<Vec<u8>> = packets(&c.agent)
        .iter()
        .filter(|p| p.2 > began + margin && p.2 + margin < handed_back)
        .map(|p| p.3.clone())
        .collect();
    assert!(during.len() > 200, "{} packets on hold", during.len());
    assert!(
        during
            .iter()
            .all(|p| hold_set.contains(p.as_slice()) || p.as_slice() == SILENCE_20MS),
        "the agent heard the Spanish hold prompt and nothing else"
    );

    // No digit beyond the last four in the agent's messages, the logs or the gateway's files.
    let messages = payment_messages(&mut c.agent);
    assert_eq!(messages.last().unwrap()["state"], "succeeded");
    let text = serde_json::to_string(&keyed_facts(&messages)).unwrap();
    assert!(!text.contains(pan) && !text.contains("1230"), "{text}");
    let data_dir = c.gw.state.config.data_dir.clone();
    let gw = c.finish().await;
    let logs = sink.0.lock().unwrap().clone();
    let logged = String::from_utf8_lossy(&logs);
    assert!(
        logged.contains(&id),
        "control: the gateway's logs of this payment were captured"
    );
    let mut found: Vec<String> = leak_scan::scan(&tracers, &logs, Net::KnownBrands)
        .into_iter()
        .map(|h| format!("logs: {h:?}"))
        .collect();
    for f in files_under(&data_dir) {
        let bytes = std::fs::read(&f).unwrap();
        for h in leak_scan::scan(&tracers, &bytes, Net::KnownBrands) {
            found.push(format!("{}: {h:?}", f.display()));
        }
    }
    assert!(found.is_empty(), "card number found: {found:?}");
    let planted = format!("field=\"{pan}\"");
    assert!(
        !leak_scan::scan(&tracers, planted.as_bytes(), Net::KnownBrands).is_empty(),
        "control: the scan finds the number where it is"
    );
    drop(gw);
}

//! The payment service as the IVR drives it (payment method `ivr`): the same keyed-field
//! operations as the keypad (capture a field, submit the collector's digits, count a failed or
//! timed-out entry, complete), taken by the IVR instead of the agent, plus the two things only
//! the IVR needs: the last four digits to read back to the patient, and the caller hanging up.
//!
//! Every operation refuses a payment of another method (`not_ivr`), so an agent's keypad
//! payment is never driven by the IVR and an IVR payment is never driven by the agent's keypad
//! commands (those stay keypad-only in [`super::keypad`]).

use hushpay_vault::Actor;
use hushpay_vault::payment::{Event, Field, INPUT_TIMEOUT, Method};

use super::keypad::KeyedDigits;
use super::{Loaded, PaymentError, PaymentService};

fn require_ivr(loaded: &Loaded) -> Result<(), PaymentError> {
    if loaded.payment.method == Method::Ivr {
        Ok(())
    } else {
        Err(PaymentError::NotIvr)
    }
}

impl PaymentService {
    /// The IVR asks for `field` (again): its state restarts, anything held for it is wiped.
    pub async fn ivr_capture(
        &self,
        actor: &Actor,
        id: &str,
        field: Field,
    ) -> Result<Loaded, PaymentError> {
        let loaded = self.load(id).await?;
        require_ivr(&loaded)?;
        self.capture_keyed(actor, &loaded, field).await
    }

    /// The collector's digits for `field`: validated and held, or a failed attempt.
    pub async fn ivr_submit(
        &self,
        actor: &Actor,
        id: &str,
        field: Field,
        digits: KeyedDigits,
    ) -> Result<Loaded, PaymentError> {
        require_ivr(&self.load(id).await?)?;
        self.submit_keypad_field(actor, id, field, digits).await
    }

    /// An entry that did not make a field: `error` is `input-timeout` when nothing usable was
    /// keyed in time (the payment ends `input-timeout` if that was the last attempt), or an
    /// `invalid-...` code.
    pub async fn ivr_entry_failed(
        &self,
        actor: &Actor,
        id: &str,
        field: Field,
        timed_out: bool,
    ) -> Result<Loaded, PaymentError> {
        require_ivr(&self.load(id).await?)?;
        let error = if timed_out {
            INPUT_TIMEOUT
        } else {
            crate::ivr::flow::invalid(field)
        };
        self.keypad_failed(actor, id, field, error).await
    }

    /// The last four digits of the card number keyed so far, to read back to the patient.
    pub async fn ivr_last4(&self, id: &str) -> Result<Option<String>, PaymentError> {
        require_ivr(&self.load(id).await?)?;
        Ok(self.keypad.pan_last4(id))
    }

    /// The patient confirmed: tokenize and authorize.
    pub async fn ivr_complete(&self, actor: &Actor, id: &str) -> Result<Loaded, PaymentError> {
        let loaded = self.load(id).await?;
        require_ivr(&loaded)?;
        self.complete_keyed(actor, &loaded).await
    }

    /// Ends an open IVR payment with `event` (`HungUp`, or `Expire` when the patient never
    /// confirmed). A payment that already ended is returned as it is.
    pub async fn ivr_end(
        &self,
        actor: &Actor,
        id: &str,
        event: Event,
    ) -> Result<Loaded, PaymentError> {
        let loaded = self.load(id).await?;
        require_ivr(&loaded)?;
        if loaded.payment.state.is_terminal() {
            return Ok(loaded);
        }
        self.transition(actor, &loaded, event).await
    }
}

//! Writing a response to a request: the status line, the request's Via, From, To, Call-ID and
//! CSeq echoed (RFC 3261 §8.2.6.2), our To tag where the response establishes or belongs to a
//! dialog, extra headers, and the body.

use std::fmt::Write;

use ezk_sip_types::{Headers, Name};

use crate::request::has_tag;

/// A response under construction.
#[derive(Debug, Clone)]
pub struct Response {
    code: u16,
    reason: &'static str,
    to_tag: Option<String>,
    extra: Vec<(&'static str, String)>,
    body: Option<(&'static str, String)>,
}

impl Response {
    pub fn new(code: u16, reason: &'static str) -> Self {
        Response {
            code,
            reason,
            to_tag: None,
            extra: Vec::new(),
            body: None,
        }
    }

    /// Our tag, added to the To header unless the request's To already has one.
    pub fn to_tag(mut self, tag: &str) -> Self {
        self.to_tag = Some(tag.to_owned());
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    pub fn body(mut self, content_type: &'static str, body: String) -> Self {
        self.body = Some((content_type, body));
        self
    }

    pub fn code(&self) -> u16 {
        self.code
    }

    /// The bytes of the response to the request whose headers are `req`. `server` names us.
    pub fn render(&self, req: &Headers, server: &str) -> Vec<u8> {
        let mut out = String::with_capacity(512);
        let _ = write!(out, "SIP/2.0 {} {}\r\n", self.code, self.reason);
        for v in req.get_raw(&Name::VIA) {
            let _ = write!(out, "Via: {v}\r\n");
        }
        echo(&mut out, req, &Name::FROM, "From");
        match (req.get_raw(&Name::TO).next(), &self.to_tag) {
            (Some(to), Some(tag)) if !has_tag(to) => {
                let _ = write!(out, "To: {to};tag={tag}\r\n");
            }
            (Some(to), _) => {
                let _ = write!(out, "To: {to}\r\n");
            }
            (None, _) => {}
        }
        echo(&mut out, req, &Name::CALL_ID, "Call-ID");
        echo(&mut out, req, &Name::CSEQ, "CSeq");
        for (name, value) in &self.extra {
            let _ = write!(out, "{name}: {value}\r\n");
        }
        let _ = write!(out, "Server: {server}\r\n");
        match &self.body {
            Some((ctype, body)) => {
                let _ = write!(
                    out,
                    "Content-Type: {ctype}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
            None => out.push_str("Content-Length: 0\r\n\r\n"),
        }
        out.into_bytes()
    }
}

fn echo(out: &mut String, req: &Headers, name: &Name, label: &str) {
    if let Some(v) = req.get_raw(name).next() {
        let _ = write!(out, "{label}: {v}\r\n");
    }
}

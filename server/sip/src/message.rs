//! Parsing one SIP request with the `ezk-sip-types` pull parser, inside the configured limits.
//!
//! Two stages, so that a request broken in a header we need still gets a `400`: [`parse`] reads
//! the start line and the raw header lines ([`Head`]); [`Request::from_head`] decodes the headers
//! the UAS uses. A failure of the second stage keeps the raw head, from which
//! [`crate::response`] can echo Via, From, To, Call-ID and CSeq.

use bytes::Bytes;
use bytesstr::BytesStr;
use ezk_sip_types::header::typed::{AuthResponse, CSeq, CallID, ContentLength, FromTo, Via};
use ezk_sip_types::msg::{Line, MessageLine, PullParser};
use ezk_sip_types::parse::Parse;
use ezk_sip_types::uri::SipUriUserPart;
use ezk_sip_types::{Headers, Method, Name};

use crate::SipError;
use crate::config::Limits;

/// What a datagram or TCP frame turned out to be.
#[derive(Debug)]
pub enum Parsed {
    /// A CRLF keep-alive (RFC 5626): answered by nothing.
    KeepAlive,
    /// A response: only a BYE of ours (a hang-up) expects one.
    Response(ResponseHead),
    Request(Head),
}

/// What the endpoint reads of a response: its status and the transaction it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub code: u16,
    /// The top Via's branch: our client transaction's key.
    pub branch: Option<String>,
}

/// A request's start line and raw headers, not yet decoded.
#[derive(Debug)]
pub struct Head {
    pub method: Method,
    /// The Request-URI as it was written (digest `uri=` is compared with it).
    pub uri_text: String,
    /// The user part of the Request-URI (the called number on a trunk), if any.
    pub uri_user: Option<String>,
    pub headers: Headers,
    pub body: Bytes,
}

/// Parses one complete message (a UDP datagram or a frame cut by [`crate::framing`]).
pub fn parse(bytes: &[u8], limits: &Limits) -> Result<Parsed, SipError> {
    if bytes.len() > limits.max_message_bytes {
        return Err(SipError::TooLarge(bytes.len()));
    }
    if bytes.iter().all(|b| matches!(b, b'\r' | b'\n')) {
        return Ok(Parsed::KeepAlive);
    }
    let buffer = Bytes::copy_from_slice(bytes);
    let mut parser = PullParser::new(&buffer, 0);
    let mut line_no = 0usize;
    let mut start: Option<MessageLine> = None;
    let mut headers = Headers::new();
    for item in &mut parser {
        let line = item.map_err(|_| SipError::Incomplete)?;
        let line = std::str::from_utf8(line).map_err(|_| SipError::NotUtf8)?;
        line_no += 1;
        if line_no > limits.max_headers + 1 {
            return Err(SipError::TooManyHeaders(limits.max_headers));
        }
        if start.is_none() {
            let (_, l) = MessageLine::parse(&buffer)(line).map_err(|_| SipError::BadStartLine)?;
            start = Some(l);
        } else {
            let (_, l) = Line::parse(&buffer, line).map_err(|_| SipError::BadHeaderLine)?;
            if l.name.as_print_str().is_empty() {
                return Err(SipError::BadHeaderLine);
            }
            headers.insert(l.name, l.value);
        }
    }
    let line = match start {
        Some(MessageLine::Request(line)) => line,
        Some(MessageLine::Response(status)) => {
            let via: Via = typed(&headers, Name::VIA, "Via")?;
            return Ok(Parsed::Response(ResponseHead {
                code: status.code.into_u16(),
                branch: via.params.get_val("branch").map(|b| b.to_string()),
            }));
        }
        None => return Err(SipError::BadStartLine),
    };
    let head_end = parser.head_end();
    let rest = buffer.len().saturating_sub(head_end);
    let body = match headers.try_get_named::<ContentLength>() {
        Some(Ok(len)) if len.0 <= rest => buffer.slice(head_end..head_end + len.0),
        Some(Ok(_)) => return Err(SipError::TruncatedBody),
        Some(Err(_)) => return Err(SipError::BadHeader("Content-Length")),
        // UDP without Content-Length: the datagram's end is the body's end
        None => buffer.slice(head_end.min(buffer.len())..),
    };
    let uri_user = match &line.uri.user_part {
        SipUriUserPart::Empty => None,
        SipUriUserPart::User(u) => Some(u.to_string()),
        SipUriUserPart::UserPw(up) => Some(up.user.to_string()),
    };
    let uri_text = request_uri_text(bytes).unwrap_or_default();
    Ok(Parsed::Request(Head {
        method: line.method,
        uri_text,
        uri_user,
        headers,
        body,
    }))
}

/// The second token of the start line, as written.
fn request_uri_text(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == b'\r' || b == b'\n')?;
    let line = std::str::from_utf8(&bytes[..end]).ok()?;
    line.split_whitespace().nth(1).map(str::to_owned)
}

/// A request with the headers the UAS needs decoded.
#[derive(Debug)]
pub struct Request {
    pub head: Head,
    pub call_id: String,
    pub cseq: CSeq,
    /// The top Via's branch (RFC 3261 transaction key); `None` for pre-3261 peers.
    pub branch: Option<String>,
    pub from_tag: Option<String>,
    pub to_tag: Option<String>,
    pub max_forwards: Option<u32>,
}

impl Request {
    /// Decodes the mandatory headers; on failure the head comes back for a `400`.
    pub fn from_head(head: Head) -> Result<Request, Box<(SipError, Head)>> {
        match Self::decode(&head.headers) {
            Ok(parts) => Ok(Request {
                head,
                call_id: parts.0,
                cseq: parts.1,
                branch: parts.2,
                from_tag: parts.3,
                to_tag: parts.4,
                max_forwards: parts.5,
            }),
            Err(e) => Err(Box::new((e, head))),
        }
    }

    #[allow(clippy::type_complexity)]
    fn decode(
        h: &Headers,
    ) -> Result<
        (
            String,
            CSeq,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<u32>,
        ),
        SipError,
    > {
        let via: Via = typed(h, Name::VIA, "Via")?;
        let call_id: CallID = typed(h, Name::CALL_ID, "Call-ID")?;
        let cseq: CSeq = typed(h, Name::CSEQ, "CSeq")?;
        let from: FromTo = typed(h, Name::FROM, "From")?;
        let to: FromTo = typed(h, Name::TO, "To")?;
        let max_forwards = match h.get_raw(&Name::MAX_FORWARDS).next() {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<u32>()
                    .map_err(|_| SipError::BadHeader("Max-Forwards"))?,
            ),
        };
        if call_id.0.is_empty() {
            return Err(SipError::BadHeader("Call-ID"));
        }
        let branch = via.params.get_val("branch").map(|b| b.to_string());
        Ok((
            call_id.0.to_string(),
            cseq,
            branch,
            from.tag.map(|t| t.to_string()),
            to.tag.map(|t| t.to_string()),
            max_forwards,
        ))
    }

    pub fn method(&self) -> &Method {
        &self.head.method
    }

    /// The digest `Authorization` header, if one is present and parses.
    pub fn authorization(&self) -> Option<Result<AuthResponse, SipError>> {
        let raw = self.head.headers.get_raw(&Name::AUTHORIZATION).next()?;
        Some(parse_value::<AuthResponse>(raw).ok_or(SipError::BadHeader("Authorization")))
    }

    /// The first value of a header by name, case-insensitive (dispatch rules use it).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.head
            .headers
            .iter()
            .find(|(n, _)| n.as_print_str().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    pub fn content_type(&self) -> Option<&str> {
        self.head
            .headers
            .get_raw(&Name::CONTENT_TYPE)
            .next()
            .map(|v| v.as_ref())
    }
}

fn typed<H: ezk_sip_types::header::HeaderParse>(
    h: &Headers,
    name: Name,
    label: &'static str,
) -> Result<H, SipError> {
    let raw = h
        .get_raw(&name)
        .next()
        .ok_or(SipError::MissingHeader(label))?;
    parse_value::<H>(raw).ok_or(SipError::BadHeader(label))
}

/// Parses one header value with the ezk parser; the value must be consumed whole (a Via list
/// `a, b` yields its first entry).
fn parse_value<H: ezk_sip_types::header::HeaderParse>(raw: &BytesStr) -> Option<H> {
    let src = Bytes::copy_from_slice(raw.as_bytes());
    let text = std::str::from_utf8(&src).ok()?;
    let (_, v) = H::parse(&src, text).ok()?;
    Some(v)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    const OPTIONS: &str = "OPTIONS sip:hushpay@198.51.100.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-abc\r\n\
Max-Forwards: 70\r\n\
From: <sip:probe@192.0.2.10>;tag=f1\r\n\
To: <sip:hushpay@198.51.100.1>\r\n\
Call-ID: opt-1@192.0.2.10\r\n\
CSeq: 7 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

    fn req(text: &str) -> Request {
        match parse(text.as_bytes(), &Limits::default()).unwrap() {
            Parsed::Request(h) => Request::from_head(h).map_err(|e| e.0.clone()).unwrap(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn decodes_the_uas_headers() {
        let r = req(OPTIONS);
        assert_eq!(r.method(), &Method::OPTIONS);
        assert_eq!(r.call_id, "opt-1@192.0.2.10");
        assert_eq!(r.cseq.cseq, 7);
        assert_eq!(r.branch.as_deref(), Some("z9hG4bK-abc"));
        assert_eq!(r.from_tag.as_deref(), Some("f1"));
        assert_eq!(r.to_tag, None);
        assert_eq!(r.max_forwards, Some(70));
        assert_eq!(r.head.uri_user.as_deref(), Some("hushpay"));
        assert_eq!(r.head.uri_text, "sip:hushpay@198.51.100.1");
    }

    #[test]
    fn limits_and_broken_heads_are_typed_errors() {
        let l = Limits::default();
        let big = vec![b'A'; l.max_message_bytes + 1];
        assert_eq!(parse(&big, &l).unwrap_err(), SipError::TooLarge(big.len()));
        let mut many = String::from("OPTIONS sip:a@b SIP/2.0\r\n");
        for i in 0..=l.max_headers {
            many.push_str(&format!("X-H{i}: v\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(
            parse(many.as_bytes(), &l).unwrap_err(),
            SipError::TooManyHeaders(l.max_headers)
        );
        assert_eq!(
            parse(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x", &l).unwrap_err(),
            SipError::Incomplete
        );
        assert_eq!(
            parse(b"HELLO\r\n\r\n", &l).unwrap_err(),
            SipError::BadStartLine
        );
        assert_eq!(
            parse(b"OPTIONS sip:a@b SIP/2.0\r\n\xff\xfe: x\r\n\r\n", &l).unwrap_err(),
            SipError::NotUtf8
        );
        assert!(matches!(parse(b"\r\n\r\n", &l).unwrap(), Parsed::KeepAlive));
        let Ok(Parsed::Response(r)) = parse(
            b"SIP/2.0 486 Busy Here\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKx\r\n\r\n",
            &l,
        ) else {
            panic!("a response");
        };
        assert_eq!(r.code, 486);
        assert_eq!(r.branch.as_deref(), Some("z9hG4bKx"));
        // a response without a Via answers nothing of ours
        assert_eq!(
            parse(b"SIP/2.0 200 OK\r\nCSeq: 1 BYE\r\n\r\n", &l).unwrap_err(),
            SipError::MissingHeader("Via")
        );
        let short_body = OPTIONS.replace("Content-Length: 0", "Content-Length: 10");
        assert_eq!(
            parse(short_body.as_bytes(), &l).unwrap_err(),
            SipError::TruncatedBody
        );
    }

    #[test]
    fn a_bad_mandatory_header_keeps_the_head_for_a_400() {
        let text = OPTIONS.replace("CSeq: 7 OPTIONS", "CSeq: seven");
        let Parsed::Request(h) = parse(text.as_bytes(), &Limits::default()).unwrap() else {
            panic!()
        };
        let (e, head) = *Request::from_head(h).unwrap_err();
        assert_eq!(e, SipError::BadHeader("CSeq"));
        assert_eq!(head.headers.get_raw(&Name::CALL_ID).count(), 1);
        let text = OPTIONS.replace("Call-ID: opt-1@192.0.2.10\r\n", "");
        let Parsed::Request(h) = parse(text.as_bytes(), &Limits::default()).unwrap() else {
            panic!()
        };
        assert_eq!(
            Request::from_head(h).unwrap_err().0,
            SipError::MissingHeader("Call-ID")
        );
    }
}

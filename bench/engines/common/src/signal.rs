//! Offer/answer over a tiny HTTP/1.1: the generator `POST`s `/offer/<peer>` with its SDP offer
//! as the body and reads the SDP answer from the `200` response (`4xx`/`5xx` carry the reason).
//! One thread per connection on the server, `Connection: close` both ways. Enough for a bench on
//! loopback; not a web server.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Signalling failures.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error("signalling i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("malformed HTTP: {0}")]
    Malformed(&'static str),
    #[error("the forwarder refused the offer ({status}): {body}")]
    Refused { status: u16, body: String },
}

/// What a forwarder does with one offer: the answer, or why not.
pub type OfferHandler = dyn Fn(usize, String) -> Result<String, String> + Send + Sync;

/// Serves `POST /offer/<peer>` on `listener` from a background thread, one thread per request.
pub fn serve(listener: TcpListener, handler: Arc<OfferHandler>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let handler = Arc::clone(&handler);
            thread::spawn(move || {
                if let Err(e) = answer_one(conn, &*handler) {
                    eprintln!("signal: {e}");
                }
            });
        }
    })
}

fn answer_one(conn: TcpStream, handler: &OfferHandler) -> Result<(), SignalError> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    if reader.fill_buf()?.is_empty() {
        return Ok(()); // a readiness probe: connected and closed
    }
    let (target, body) = read_message(&mut reader)?;
    let mut conn = conn;
    let peer = target
        .strip_prefix("POST /offer/")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse::<usize>().ok());
    let (status, reply) = match peer {
        None => (404, "POST /offer/<peer>".to_owned()),
        Some(peer) => match handler(peer, body) {
            Ok(answer) => (200, answer),
            Err(why) => (400, why),
        },
    };
    write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    )?;
    conn.flush()?;
    Ok(())
}

/// Reads a start line, headers and a `Content-Length` body.
fn read_message(reader: &mut impl BufRead) -> Result<(String, String), SignalError> {
    let mut start = String::new();
    reader.read_line(&mut start)?;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(SignalError::Malformed("headers end early"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value
                .trim()
                .parse()
                .map_err(|_| SignalError::Malformed("content-length"))?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = String::from_utf8(body).map_err(|_| SignalError::Malformed("body is not UTF-8"))?;
    Ok((start.trim_end().to_owned(), body))
}

/// Sends `offer` for `peer` to the forwarder at `addr` and returns its answer.
pub fn post_offer(addr: SocketAddr, peer: usize, offer: &str) -> Result<String, SignalError> {
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        conn,
        "POST /offer/{peer} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{offer}",
        offer.len()
    )?;
    conn.flush()?;
    let mut reader = BufReader::new(conn);
    let (status_line, body) = read_message(&mut reader)?;
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(SignalError::Malformed("status line"))?;
    if status != 200 {
        return Err(SignalError::Refused { status, body });
    }
    Ok(body)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn offers_reach_the_handler_and_answers_come_back() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        serve(
            listener,
            Arc::new(|peer, offer: String| {
                if peer == 9 {
                    Err("no such peer".to_owned())
                } else {
                    Ok(format!("answer {peer} to {}", offer.len()))
                }
            }),
        );
        assert_eq!(post_offer(addr, 3, "v=0\r\n").unwrap(), "answer 3 to 5");
        let refused = post_offer(addr, 9, "x").unwrap_err();
        assert!(
            matches!(refused, SignalError::Refused { status: 400, .. }),
            "{refused}"
        );
    }
}

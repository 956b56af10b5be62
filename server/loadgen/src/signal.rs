//! The bots' signalling, on a thread of its own (a current-thread tokio runtime with
//! tokio-tungstenite), so the media thread never waits on a socket: for each pair, at most
//! `concurrency` at once and `ramp` apart, the agent and then the patient open
//! `GET /v1/rtc?access_token=...`, send `join`, wait for `joined` (a cluster node that does
//! not hold the room answers `redirect`: the bot joins again at the node it names), send their offer and wait
//! for the `answer` (which carries the gateway's candidates), handed to the media thread as a
//! [`SignalEvent`] with a wake-up. Each socket then stays open for the call (a `ping` every
//! 20 s keeps the gateway's idle timeout away) until [`Signalling::leave`], when every bot
//! sends `leave` and closes.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use mio::Waker;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long each signalling step (connect, `joined`, `answer`) may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);
/// Keep-alive interval (the gateway closes a session silent for `rtc.idle_timeout_secs`).
const PING_EVERY: Duration = Duration::from_secs(20);
/// Redirects one join follows (a cluster sends at most one in practice).
const MAX_REDIRECTS: usize = 3;
/// How long the bots get to say `leave` and close.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(5);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One bot's signalling job.
#[derive(Debug, Clone)]
pub struct Job {
    pub bot: usize,
    pub token: String,
    pub offer: String,
}

/// A pair's jobs: the agent joins first.
#[derive(Debug, Clone)]
pub struct PairJob {
    pub agent: Job,
    pub patient: Job,
}

/// What the signalling thread tells the media thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalEvent {
    /// The gateway's answer to bot `bot`'s offer.
    Answer { bot: usize, sdp: String },
    /// Bot `bot` could not join or negotiate.
    Failed { bot: usize, why: String },
    /// The gateway closed bot `bot`'s session during the call.
    Closed { bot: usize, why: String },
}

/// The running signalling thread.
#[derive(Debug)]
pub struct Signalling {
    leave: watch::Sender<bool>,
    thread: JoinHandle<()>,
}

impl Signalling {
    /// Starts the thread for `jobs` against `ws://{gateway}/v1/rtc`.
    pub fn start(
        gateway: std::net::SocketAddr,
        jobs: Vec<PairJob>,
        concurrency: usize,
        ramp: Duration,
        events: mpsc::Sender<SignalEvent>,
        waker: Arc<Waker>,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (leave, leave_rx) = watch::channel(false);
        let url = format!("ws://{gateway}/v1/rtc");
        let tell = Tell { events, waker };
        let thread = std::thread::Builder::new()
            .name("loadgen-signal".into())
            .spawn(move || {
                runtime.block_on(all_pairs(url, jobs, concurrency, ramp, tell, leave_rx));
            })?;
        Ok(Self { leave, thread })
    }

    /// Every bot leaves; returns when the thread is done (within about 5 s).
    pub fn leave(self) -> Result<(), String> {
        let _ = self.leave.send(true);
        self.thread
            .join()
            .map_err(|_| "the signalling thread panicked".to_owned())
    }
}

/// The media thread's channel and its poll's waker.
#[derive(Clone)]
struct Tell {
    events: mpsc::Sender<SignalEvent>,
    waker: Arc<Waker>,
}

impl Tell {
    fn send(&self, ev: SignalEvent) {
        if self.events.send(ev).is_ok() {
            let _ = self.waker.wake();
        }
    }
}

async fn all_pairs(
    url: String,
    jobs: Vec<PairJob>,
    concurrency: usize,
    ramp: Duration,
    tell: Tell,
    leave: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut pairs = tokio::task::JoinSet::new();
    for (i, job) in jobs.into_iter().enumerate() {
        if i > 0 && !ramp.is_zero() {
            tokio::time::sleep(ramp).await;
        }
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        if *leave.borrow() {
            break;
        }
        let (url, tell, leave) = (url.clone(), tell.clone(), leave.clone());
        pairs.spawn(async move {
            let agent = negotiate(&url, &job.agent, &tell).await;
            let patient = match agent {
                Some(_) => negotiate(&url, &job.patient, &tell).await,
                None => None,
            };
            drop(permit);
            let (a, p) = (job.agent.bot, job.patient.bot);
            tokio::join!(
                hold(agent, a, &tell, leave.clone()),
                hold(patient, p, &tell, leave)
            );
        });
    }
    while pairs.join_next().await.is_some() {}
}

/// Connects, joins and negotiates one bot; its socket, or `None` after telling why not.
async fn negotiate(url: &str, job: &Job, tell: &Tell) -> Option<Ws> {
    match try_negotiate(url, job).await {
        Ok((ws, sdp)) => {
            tell.send(SignalEvent::Answer { bot: job.bot, sdp });
            Some(ws)
        }
        Err(why) => {
            tell.send(SignalEvent::Failed { bot: job.bot, why });
            None
        }
    }
}

async fn try_negotiate(url: &str, job: &Job) -> Result<(Ws, String), String> {
    let mut url = url.to_owned();
    let mut redirects = 0;
    let mut ws = loop {
        let full = format!("{url}?access_token={}", job.token);
        let (mut ws, _) =
            tokio::time::timeout(STEP_TIMEOUT, tokio_tungstenite::connect_async(full))
                .await
                .map_err(|_| "signalling connect timed out".to_owned())?
                .map_err(|e| format!("signalling connect: {e}"))?;
        send(&mut ws, &json!({"type": "join", "v": 1})).await?;
        let v = expect_one_of(&mut ws, &["joined", "redirect"]).await?;
        if v.get("type").and_then(Value::as_str) != Some("redirect") {
            break ws;
        }
        // A cluster node that does not hold the room: join again where it is.
        redirects += 1;
        if redirects > MAX_REDIRECTS {
            return Err(format!("more than {MAX_REDIRECTS} redirects"));
        }
        let base = v.get("url").and_then(Value::as_str).unwrap_or_default();
        url = signalling_url(base).ok_or_else(|| format!("a redirect to `{base}`"))?;
    };
    send(&mut ws, &json!({"type": "offer", "sdp": job.offer})).await?;
    let answer = expect(&mut ws, "answer").await?;
    let sdp = answer
        .get("sdp")
        .and_then(Value::as_str)
        .ok_or("an answer without sdp")?
        .to_owned();
    Ok((ws, sdp))
}

async fn send(ws: &mut Ws, v: &Value) -> Result<(), String> {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .map_err(|e| format!("signalling send: {e}"))
}

/// The next frame of type `kind` (others are skipped); an `error` frame fails.
async fn expect(ws: &mut Ws, kind: &str) -> Result<Value, String> {
    expect_one_of(ws, &[kind]).await
}

/// The next frame whose type is one of `kinds` (others are skipped); an `error` frame fails.
async fn expect_one_of(ws: &mut Ws, kinds: &[&str]) -> Result<Value, String> {
    let wanted = kinds.join("` or `");
    let wait = async {
        while let Some(frame) = ws.next().await {
            let frame = frame.map_err(|e| format!("signalling: {e}"))?;
            let Message::Text(text) = frame else { continue };
            let Ok(v) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            match v.get("type").and_then(Value::as_str) {
                Some(t) if kinds.contains(&t) => return Ok(v),
                Some("error") => return Err(refusal(&v)),
                _ => {}
            }
        }
        Err(format!("signalling closed before `{wanted}`"))
    };
    tokio::time::timeout(STEP_TIMEOUT, wait)
        .await
        .map_err(|_| format!("no `{wanted}` within {} s", STEP_TIMEOUT.as_secs()))?
}

/// The signalling endpoint of a node's public base URL, as a `redirect` names it
/// (`http://host:port` -> `ws://host:port/v1/rtc`, `https` -> `wss`); `None` for anything
/// else.
fn signalling_url(base: &str) -> Option<String> {
    let base = base.trim_end_matches('/');
    let (scheme, rest) = if let Some(rest) = base.strip_prefix("http://") {
        ("ws", rest)
    } else if let Some(rest) = base.strip_prefix("https://") {
        ("wss", rest)
    } else {
        return None;
    };
    if rest.is_empty() || rest.contains(['?', '#']) {
        return None;
    }
    Some(format!("{scheme}://{rest}/v1/rtc"))
}

fn refusal(v: &Value) -> String {
    let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    format!("refused: {}: {}", field("code"), field("message"))
}

/// Keeps a bot's session open until `leave`, then leaves; a session the gateway ends first is
/// reported [`SignalEvent::Closed`].
async fn hold(ws: Option<Ws>, bot: usize, tell: &Tell, mut leave: watch::Receiver<bool>) {
    let Some(mut ws) = ws else { return };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.reset();
    let mut last_error = None;
    let closed = loop {
        tokio::select! {
            // the only change is to `true` (or the sender is gone): leave
            _ = leave.changed() => break None,
            _ = ping.tick() => {
                if let Err(why) = send(&mut ws, &json!({"type": "ping"})).await {
                    break Some(why);
                }
            }
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    match v.get("type").and_then(Value::as_str) {
                        // an error alone does not end a session; the close that may follow does
                        Some("error") => last_error = Some(refusal(&v)),
                        Some(t @ ("room_closed" | "token_expired")) => break Some(t.to_owned()),
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None => {
                    break Some(last_error.take().unwrap_or_else(|| "the gateway closed the session".to_owned()));
                }
                Some(Err(e)) => break Some(format!("signalling: {e}")),
                Some(Ok(_)) => {}
            },
        }
    };
    if let Some(why) = closed {
        if !*leave.borrow() {
            tell.send(SignalEvent::Closed { bot, why });
        }
        return;
    }
    let bye = async {
        let _ = send(&mut ws, &json!({"type": "leave"})).await;
        let _ = ws.close(None).await;
        // the gateway's close frame
        while let Some(Ok(_)) = ws.next().await {}
    };
    let _ = tokio::time::timeout(LEAVE_TIMEOUT, bye).await;
}

#[cfg(test)]
mod tests {
    use super::signalling_url;

    #[test]
    fn a_redirect_names_the_node_whose_signalling_is_joined() {
        assert_eq!(
            signalling_url("http://127.0.0.1:4100").as_deref(),
            Some("ws://127.0.0.1:4100/v1/rtc")
        );
        assert_eq!(
            signalling_url("https://node-2.pay.example.org/").as_deref(),
            Some("wss://node-2.pay.example.org/v1/rtc")
        );
        for bad in ["", "ftp://x", "http://", "node-2:4100", "http://x/?a=b"] {
            assert_eq!(signalling_url(bad), None, "{bad}");
        }
    }
}

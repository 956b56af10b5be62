//! The bot's signalling WebSocket: a writer task fed by a channel, a reader task that routes
//! answers and candidates to the negotiation and everything else to the bot's events.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use hushpay_protocol::signal::ServerMessage;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use webrtc::peer_connection::{PeerConnection, RTCIceCandidateInit};

use super::BotError;

pub(super) struct Signalling {
    tx: mpsc::UnboundedSender<String>,
    answer: Option<oneshot::Receiver<String>>,
    candidates: Option<mpsc::UnboundedReceiver<RTCIceCandidateInit>>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Signalling {
    /// Opens `url?access_token=token`.
    /// Every text frame received is appended to `log` when there is one.
    pub(super) async fn connect(
        url: &str,
        token: &str,
        log: Option<super::FrameLog>,
    ) -> Result<(Self, mpsc::Receiver<ServerMessage>), BotError> {
        let full = format!("{url}?access_token={token}");
        let (ws, _) = tokio_tungstenite::connect_async(full)
            .await
            .map_err(|e| BotError::new("signalling connect", e))?;
        let (mut sink, mut stream) = ws.split();
        let (tx, mut out_rx) = mpsc::unbounded_channel::<String>();
        let writer = tokio::spawn(async move {
            while let Some(text) = out_rx.recv().await {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let (answer_tx, answer_rx) = oneshot::channel();
        let (cand_tx, cand_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::channel(1024);
        let reader = tokio::spawn(async move {
            let mut answer_tx = Some(answer_tx);
            while let Some(Ok(msg)) = stream.next().await {
                let Message::Text(text) = msg else { continue };
                if let Some(log) = &log {
                    super::log_frame(log, text.as_str());
                }
                let Ok(parsed) = serde_json::from_str::<ServerMessage>(&text) else {
                    continue;
                };
                match parsed {
                    ServerMessage::Answer { sdp } => {
                        if let Some(tx) = answer_tx.take() {
                            let _ = tx.send(sdp);
                        }
                    }
                    ServerMessage::Candidate {
                        candidate,
                        sdp_mid,
                        sdp_mline_index,
                    } => {
                        let _ = cand_tx.send(RTCIceCandidateInit {
                            candidate,
                            sdp_mid,
                            sdp_mline_index,
                            ..Default::default()
                        });
                    }
                    other => {
                        if ev_tx.send(other).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Ok((
            Self {
                tx,
                answer: Some(answer_rx),
                candidates: Some(cand_rx),
                reader,
                writer,
            },
            ev_rx,
        ))
    }

    pub(super) fn sender(&self) -> mpsc::UnboundedSender<String> {
        self.tx.clone()
    }

    pub(super) fn send_json(&self, v: &serde_json::Value) -> Result<(), BotError> {
        self.tx
            .send(v.to_string())
            .map_err(|_| BotError("signalling closed".into()))
    }

    /// Waits for the answer; an `error` frame in the events means the offer was refused.
    pub(super) async fn take_answer(&mut self) -> Result<String, BotError> {
        let rx = self
            .answer
            .take()
            .ok_or_else(|| BotError("answer already taken".into()))?;
        tokio::time::timeout(std::time::Duration::from_secs(10), rx)
            .await
            .map_err(|_| BotError("no answer within 10 s".into()))?
            .map_err(|_| BotError("signalling closed before the answer".into()))
    }

    /// Applies the server's trickled candidates from now on.
    pub(super) fn start_candidates(
        &mut self,
        pc: Arc<dyn PeerConnection>,
        _events: &mut mpsc::Receiver<ServerMessage>,
    ) {
        if let Some(mut rx) = self.candidates.take() {
            tokio::spawn(async move {
                while let Some(c) = rx.recv().await {
                    let _ = pc.add_ice_candidate(c).await;
                }
            });
        }
    }

    pub(super) async fn close(self) {
        drop(self.tx);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.writer).await;
        self.reader.abort();
    }

    /// Drops the socket without a close handshake.
    pub(super) fn abort(self) {
        self.writer.abort();
        self.reader.abort();
    }
}

//! A patient bot that follows IVR prompts by ear: it decodes what it receives and finds each
//! prompt by its energy (when speech starts and when 600 ms of silence follow it), never by
//! its words; and a phone that keeps sending audio and keys digits (RFC 4733 or in-band DTMF)
//! when told to.

use std::time::{Duration, Instant};

use hushpay_bots::{Bot, Key, Uplink};
use hushpay_media::Digit;
use hushpay_media::opus_codec::Decoder;
use tokio::sync::{mpsc, oneshot};

use crate::harness::{silence, tone};

/// A 20 ms frame at or above this RMS is speech.
const SPEECH_RMS: f64 = 200.0;
/// Silence that ends a prompt.
const QUIET_FRAMES: usize = 30;

/// One prompt heard: its length in 20 ms frames (first to last loud frame) and when it ended.
#[derive(Debug, Clone, Copy)]
pub struct Heard {
    pub frames: usize,
    pub ended: Instant,
}

/// What the patient bot hears, frame by frame.
pub struct Ears {
    decoder: Decoder,
    next_packet: usize,
    /// RMS and arrival of each received frame.
    frames: Vec<(f64, Instant)>,
    /// Frames already looked at by [`Ears::next_prompt`].
    at: usize,
}

impl Ears {
    pub fn new() -> Self {
        Self {
            decoder: Decoder::new(48_000).unwrap(),
            next_packet: 0,
            frames: Vec::new(),
            at: 0,
        }
    }

    fn listen(&mut self, bot: &Bot) {
        let r = bot.received.lock().unwrap();
        let mut pcm = Vec::with_capacity(960);
        for (_, _, arrived, payload) in &r.packets[self.next_packet..] {
            pcm.clear();
            if self
                .decoder
                .decode_into(payload.as_deref().unwrap_or(&[]), &mut pcm)
                .is_err()
            {
                pcm.clear();
            }
            self.frames.push((crate::harness::rms(&pcm), *arrived));
        }
        self.next_packet = r.packets.len();
    }

    /// The next prompt: waits (at most `within`) until speech has started and been followed
    /// by [`QUIET_FRAMES`] of silence.
    pub async fn next_prompt(&mut self, bot: &Bot, within: Duration) -> Option<Heard> {
        let deadline = Instant::now() + within;
        let mut start: Option<usize> = None;
        let mut last_loud = 0;
        loop {
            self.listen(bot);
            while self.at < self.frames.len() {
                let loud = self.frames[self.at].0 >= SPEECH_RMS;
                match (start, loud) {
                    (None, true) => (start, last_loud) = (Some(self.at), self.at),
                    (Some(_), true) => last_loud = self.at,
                    (Some(s), false) if self.at - last_loud >= QUIET_FRAMES => {
                        return Some(Heard {
                            frames: last_loud - s + 1,
                            ended: self.frames[last_loud].1,
                        });
                    }
                    _ => {}
                }
                self.at += 1;
            }
            // The stream may stop after the prompt (handed back to an agent who says
            // nothing): as much time without packets ends it too.
            if let Some(s) = start
                && self.frames.last().is_some_and(|(_, at)| {
                    at.elapsed() >= Duration::from_millis(QUIET_FRAMES as u64 * 20)
                })
            {
                return Some(Heard {
                    frames: last_loud - s + 1,
                    ended: self.frames[last_loud].1,
                });
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }
}

/// How the phone sends keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keying {
    Rfc4733,
    InBand,
}

type Job = (Vec<i16>, Vec<Key>, oneshot::Sender<()>);

/// The patient's phone: sends silence all the time, and keys when told.
pub struct Phone {
    jobs: Option<mpsc::UnboundedSender<Job>>,
    task: tokio::task::JoinHandle<()>,
    /// Everything sent, at 48 kHz (keys as RFC 4733 are not audio and not in here).
    pub sent: std::sync::Arc<std::sync::Mutex<Vec<i16>>>,
}

impl Phone {
    pub fn new(bot: &Bot) -> Self {
        let up: Uplink = bot.uplink();
        let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
        let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&sent);
        let task = tokio::spawn(async move {
            loop {
                match rx.try_recv() {
                    Ok((pcm, keys, done)) => {
                        let _ = up.play(&pcm, &keys).await;
                        log.lock().unwrap().extend(&pcm);
                        let _ = done.send(());
                    }
                    Err(mpsc::error::TryRecvError::Empty) => {
                        let quiet = silence(100);
                        let _ = up.play(&quiet, &[]).await;
                        log.lock().unwrap().extend(&quiet);
                    }
                    Err(mpsc::error::TryRecvError::Disconnected) => break,
                }
            }
        });
        Self {
            jobs: Some(tx),
            task,
            sent,
        }
    }

    /// Keys `digits` (each 100 ms, 100 ms apart) and returns once they are sent.
    pub async fn press(&self, digits: &str, how: Keying) {
        let mut pcm = Vec::new();
        let mut keys = Vec::new();
        for (i, c) in digits.chars().enumerate() {
            match how {
                Keying::Rfc4733 => keys.push(Key {
                    digit: Digit::from_char(c).unwrap(),
                    at_ms: i as u64 * 200,
                    ms: 100,
                }),
                Keying::InBand => pcm.extend(tone(c, 100.0)),
            }
            if how == Keying::Rfc4733 {
                pcm.extend(silence(200));
            } else {
                pcm.extend(silence(100));
            }
        }
        pcm.extend(silence(100));
        let (done, sent) = oneshot::channel();
        self.jobs.as_ref().unwrap().send((pcm, keys, done)).unwrap();
        sent.await.unwrap();
    }

    /// Sends `pcm` (48 kHz) and returns once it is sent.
    pub async fn send(&self, pcm: &[i16]) {
        let (done, sent) = oneshot::channel();
        self.jobs
            .as_ref()
            .unwrap()
            .send((pcm.to_vec(), Vec::new(), done))
            .unwrap();
        sent.await.unwrap();
    }

    /// Stops sending.
    pub async fn hang_up(mut self) {
        self.jobs = None;
        let _ = (&mut self.task).await;
    }
}

impl Drop for Phone {
    fn drop(&mut self) {
        self.task.abort();
    }
}

//! The media workers: one engine thread ([`MediaEngine`]) per worker, each with its own UDP
//! port (`rtc.udp_port + i`) and ICE-TCP port (`rtc.tcp_port + i`), so that a worker's peers
//! are demultiplexed by its own socket and nothing is shared between workers per packet.
//!
//! A room is placed on one worker when it opens ([`super::room::Registry`], in turn) and every
//! peer of the room lives there: a room's packets never cross threads. `rtc.workers` defaults
//! to 1 (one port to open in a firewall); set it to the number of cores to use them all.

use std::io;
use std::sync::Arc;

use super::limits::SfuConfig;
use super::media::MediaEngine;
use crate::metrics::Metrics;

/// Every media worker of this gateway.
#[derive(Debug)]
pub struct MediaWorkers {
    engines: Vec<MediaEngine>,
}

impl MediaWorkers {
    /// Binds each worker's ports and starts its thread. A port that is taken fails the start,
    /// unless `config.udp_port_fallback` (development) takes a free one instead.
    pub fn start(config: &SfuConfig, metrics: &Arc<Metrics>) -> io::Result<Self> {
        let mut engines = Vec::with_capacity(config.workers.max(1));
        for i in 0..config.workers.max(1) {
            let wanted = config.endpoint(i);
            let engine = match MediaEngine::start(wanted.clone(), Arc::clone(metrics)) {
                Err(e) if e.kind() == io::ErrorKind::AddrInUse && config.udp_port_fallback => {
                    let mut fallback = wanted;
                    fallback.udp.set_port(0);
                    let engine = MediaEngine::start(fallback, Arc::clone(metrics))?;
                    tracing::warn!(
                        wanted = config.udp_port,
                        bound = %engine.udp_addr(),
                        worker = i,
                        "rtc.udp_port is taken; development mode uses a free port"
                    );
                    engine
                }
                other => other?,
            };
            engines.push(engine);
        }
        Ok(Self { engines })
    }

    /// The engine of `worker` (a room's [`super::room::Room::worker`]).
    pub fn get(&self, worker: usize) -> &MediaEngine {
        &self.engines[worker % self.engines.len()]
    }

    /// Every worker's engine, in order.
    pub fn engines(&self) -> &[MediaEngine] {
        &self.engines
    }

    /// Stops every worker thread (their sockets close).
    pub fn stop(&self) {
        for e in &self.engines {
            e.stop();
        }
    }
}

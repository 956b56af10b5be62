//! What the bake-off's forwarders and load generator share, so that the engines differ only in
//! the engine:
//!
//! * [`signal`]: `POST /offer/<peer>` with an SDP offer, answered with the SDP answer (a tiny
//!   HTTP/1.1 server and client on std sockets, one thread per request);
//! * [`udp_loop`]: the single-threaded, one-UDP-socket loop both sans-IO forwarders run (mio,
//!   edge-triggered, every datagram read until `WouldBlock`, one `send_to` per datagram out);
//! * [`stun`]: the ICE ufrag of a STUN binding request, to place a new remote address on its peer;
//! * [`sdp`]: the answer munging the gateway does (`a=ptime:20`, `a=maxptime:20`, Opus
//!   `useinbandfec=0;maxplaybackrate=16000`), applied by every forwarder;
//! * [`deadlines`]: one deadline per peer in a heap;
//! * [`pairing`]: which peer hears which (peer `2k` and `2k+1` form a call pair).

pub mod deadlines;
pub mod pairing;
pub mod sdp;
pub mod signal;
pub mod stun;
pub mod udp_loop;

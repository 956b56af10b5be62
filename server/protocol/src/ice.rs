//! TURN servers as participants receive them (`joined`, `token_refreshed`): one entry of
//! `RTCConfiguration.iceServers`. The credential never appears in `Debug` output.

use serde::{Deserialize, Serialize};

/// One entry of `RTCConfiguration.iceServers`, as browsers take it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    pub username: String,
    pub credential: String,
}

impl std::fmt::Debug for IceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field("credential", &"<redacted>")
            .finish()
    }
}

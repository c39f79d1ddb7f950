//! Settings of live connections (contract §1, the `WS_*` variables).

use std::time::Duration;

/// How live WebSocket connections behave. `Default` gives the contract's
/// defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealtimeSettings {
    /// `WS_PING_INTERVAL`: period of the server's ping frames.
    pub ping_interval: Duration,
    /// `WS_PONG_TIMEOUT`: close when nothing at all arrives for this long.
    pub pong_timeout: Duration,
    /// `WS_WRITE_TIMEOUT`: drop a connection whose write does not complete in time.
    pub write_timeout: Duration,
    /// `WS_MAX_MESSAGE_SIZE`: larger client text messages close with 1009.
    pub max_message_size: usize,
    /// Largest `auth` message: tokens can be longer than `max_message_size`.
    /// Also the largest frame the transport needs to accept.
    pub max_auth_message_size: usize,
    /// In-band `auth` messages a connection may send per minute; each costs a
    /// signature check, so more are answered with `rate_limited` unchecked.
    pub max_auth_per_minute: u32,
    /// `WS_SEND_BUFFER`: messages queued per connection; overflow closes with 1013.
    pub send_buffer: usize,
    /// `WS_MAX_CONNECTIONS_PER_USER`: one more upgrade is refused with 429.
    pub max_connections_per_user: usize,
}

impl Default for RealtimeSettings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(54),
            pong_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(10),
            max_message_size: 512,
            max_auth_message_size: 8 * 1024,
            max_auth_per_minute: 10,
            send_buffer: 256,
            max_connections_per_user: 16,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_contracts() {
        let s = RealtimeSettings::default();
        assert_eq!(s.ping_interval, Duration::from_secs(54));
        assert_eq!(s.pong_timeout, Duration::from_secs(60));
        assert_eq!(s.write_timeout, Duration::from_secs(10));
        assert_eq!((s.max_message_size, s.max_auth_message_size), (512, 8192));
        assert_eq!((s.send_buffer, s.max_connections_per_user), (256, 16));
        assert_eq!(s.max_auth_per_minute, 10);
    }
}

//! [`Node`]: one server under test, resolved once to the addresses the tool
//! dials, and [`Target`]: which kind of server it is. Only loopback
//! addresses are accepted.

use std::net::SocketAddr;

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

/// The kind of server under test: the notification service, or nginx with
/// the nchan module as a memory-only pub/sub peer to compare it with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// This service: sockets on `/ws/notifications` (bearer token), creates
    /// on `POST /api/v1/notifications`, answered 201.
    #[default]
    Service,
    /// nginx + nchan: a socket per user on `/ws/<user>`, messages published
    /// on `POST /pub/<user>`, answered 201 (subscribers present) or 202.
    Nchan,
}

/// Where one server node listens.
#[derive(Debug, Clone)]
pub struct Node {
    pub target: Target,
    /// The TCP address sockets connect to.
    pub addr: SocketAddr,
    /// `http://…/healthz` (the nchan configuration serves it too).
    pub health_url: Url,
    /// `http://host:port/`.
    http_base: Url,
    /// `ws://host:port/`.
    ws_base: Url,
}

impl Node {
    pub fn resolve(base: &str, target: Target) -> anyhow::Result<Self> {
        let http_base = Url::parse(base).with_context(|| format!("--url {base:?}"))?;
        if http_base.scheme() != "http" {
            bail!("--url {base}: only http:// is supported (the benchmark runs on loopback)");
        }
        let addr = http_base
            .socket_addrs(|| Some(80))
            .with_context(|| format!("--url {base}: cannot resolve"))?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow!("--url {base}: resolves to no address"))?;
        if !addr.ip().is_loopback() {
            bail!(
                "--url {base}: {addr} is not a loopback address; this tool only loads this machine"
            );
        }
        let mut ws_base = http_base.join("/")?;
        // Only the scheme differs: http → ws cannot fail for a valid http URL.
        ws_base
            .set_scheme("ws")
            .map_err(|()| anyhow!("--url {base}: cannot build its ws:// URL"))?;
        Ok(Self {
            target,
            addr,
            health_url: http_base.join("/healthz")?,
            http_base,
            ws_base,
        })
    }

    /// Where `user`'s sockets connect.
    pub fn ws_url(&self, user: Uuid) -> Result<Url, url::ParseError> {
        match self.target {
            Target::Service => self.ws_base.join("/ws/notifications"),
            Target::Nchan => self.ws_base.join(&format!("/ws/{user}")),
        }
    }

    /// Where a notification for `user` is published.
    pub fn publish_url(&self, user: Uuid) -> Result<Url, url::ParseError> {
        match self.target {
            Target::Service => self.http_base.join("/api/v1/notifications"),
            Target::Nchan => self.http_base.join(&format!("/pub/{user}")),
        }
    }
}

impl Target {
    /// Whether a publish answered with `status` was accepted.
    pub fn accepted(self, status: reqwest::StatusCode) -> bool {
        match self {
            Target::Service => status == reqwest::StatusCode::CREATED,
            Target::Nchan => {
                status == reqwest::StatusCode::CREATED || status == reqwest::StatusCode::ACCEPTED
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: Uuid = Uuid::from_u128(0x0192f5c8_7d3e_7c4a_9a8e_1f2b3c4d5e6f);

    #[test]
    fn the_service_has_one_socket_path_and_one_create_path() {
        let node = Node::resolve("http://127.0.0.1:8080", Target::Service).unwrap();
        assert_eq!(node.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            node.ws_url(USER).unwrap().as_str(),
            "ws://127.0.0.1:8080/ws/notifications"
        );
        assert_eq!(
            node.publish_url(USER).unwrap().as_str(),
            "http://127.0.0.1:8080/api/v1/notifications"
        );
        assert_eq!(node.health_url.as_str(), "http://127.0.0.1:8080/healthz");
    }

    #[test]
    fn nchan_has_a_channel_per_user() {
        let node = Node::resolve("http://127.0.0.1:8080", Target::Nchan).unwrap();
        assert_eq!(
            node.ws_url(USER).unwrap().as_str(),
            format!("ws://127.0.0.1:8080/ws/{USER}")
        );
        assert_eq!(
            node.publish_url(USER).unwrap().as_str(),
            format!("http://127.0.0.1:8080/pub/{USER}")
        );
    }

    #[test]
    fn nchan_accepts_a_message_without_subscribers_too() {
        use reqwest::StatusCode;
        assert!(Target::Nchan.accepted(StatusCode::ACCEPTED));
        assert!(!Target::Service.accepted(StatusCode::ACCEPTED));
        assert!(Target::Service.accepted(StatusCode::CREATED));
        assert!(!Target::Nchan.accepted(StatusCode::INTERNAL_SERVER_ERROR));
    }

    #[test]
    fn other_hosts_and_schemes_are_refused() {
        assert!(Node::resolve("http://10.0.0.1:8080", Target::Service).is_err());
        assert!(Node::resolve("https://127.0.0.1:8080", Target::Service).is_err());
        assert!(Node::resolve("not a url", Target::Nchan).is_err());
    }
}

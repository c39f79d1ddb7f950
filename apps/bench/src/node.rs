//! [`Node`]: one server under test, resolved once to the addresses the tool
//! dials. Only loopback addresses are accepted.

use std::net::SocketAddr;

use anyhow::{anyhow, bail, Context};
use url::Url;

/// Where one server node listens.
#[derive(Debug, Clone)]
pub struct Node {
    /// The TCP address sockets connect to.
    pub addr: SocketAddr,
    /// `ws://…/ws/notifications`.
    pub ws_url: Url,
    /// `http://…/api/v1/notifications`.
    pub create_url: Url,
    /// `http://…/healthz`.
    pub health_url: Url,
}

impl Node {
    pub fn resolve(base: &str) -> anyhow::Result<Self> {
        let base = Url::parse(base).with_context(|| format!("--url {base:?}"))?;
        if base.scheme() != "http" {
            bail!("--url {base}: only http:// is supported (the benchmark runs on loopback)");
        }
        let addr = base
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
        let join = |path: &str| {
            base.join(path)
                .with_context(|| format!("--url {base}: cannot append {path}"))
        };
        let mut ws_url = join("/ws/notifications")?;
        // Only the scheme differs: http → ws cannot fail for a valid http URL.
        ws_url
            .set_scheme("ws")
            .map_err(|()| anyhow!("--url {base}: cannot build its ws:// URL"))?;
        Ok(Self {
            addr,
            ws_url,
            create_url: join("/api/v1/notifications")?,
            health_url: join("/healthz")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_base_url_gives_every_endpoint() {
        let node = Node::resolve("http://127.0.0.1:8080").unwrap();
        assert_eq!(node.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(node.ws_url.as_str(), "ws://127.0.0.1:8080/ws/notifications");
        assert_eq!(
            node.create_url.as_str(),
            "http://127.0.0.1:8080/api/v1/notifications"
        );
    }

    #[test]
    fn other_hosts_and_schemes_are_refused() {
        assert!(Node::resolve("http://10.0.0.1:8080").is_err());
        assert!(Node::resolve("https://127.0.0.1:8080").is_err());
        assert!(Node::resolve("not a url").is_err());
    }
}

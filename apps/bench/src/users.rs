//! The users of one worker: fresh ids (so runs never see each other's
//! notifications), their tokens, and the node each one lives on.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use jsonwebtoken::{EncodingKey, Header};
use serde::Serialize;
use uuid::Uuid;

/// The scope a publisher token carries (the server's `PUBLISH_SCOPE`; the
/// contract names it, so the tool does not link the server to learn it).
pub const PUBLISH_SCOPE: &str = "notifications:publish";

/// Shortest HS256 secret the server accepts: refusing it here fails the run
/// at once instead of with thousands of refused upgrades.
const MIN_SECRET_BYTES: usize = 32;

/// One simulated user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    /// HS256 token for the user's sockets.
    pub token: String,
    /// Index of the node the user's sockets and notifications go to.
    pub node: usize,
}

/// The claims the server reads: `sub`, `exp`, and `scope` for a publisher.
#[derive(Serialize)]
struct Claims<'a> {
    sub: Uuid,
    iat: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
}

/// Mints HS256 tokens with the secret the server runs with, exactly as its
/// own `token` command does, with jsonwebtoken directly: the tool links
/// neither the server nor its web framework.
pub struct Tokens {
    key: EncodingKey,
    ttl: Duration,
}

impl Tokens {
    pub fn new(secret: &str, ttl: Duration) -> anyhow::Result<Self> {
        if secret.len() < MIN_SECRET_BYTES {
            bail!("--jwt-secret: the server needs at least {MIN_SECRET_BYTES} bytes");
        }
        Ok(Self {
            key: EncodingKey::from_secret(secret.as_bytes()),
            ttl,
        })
    }

    pub fn user(&self, id: Uuid) -> anyhow::Result<String> {
        self.issue(id, None).context("minting a user token")
    }

    /// A token with the `notifications:publish` scope, for a made-up publisher.
    pub fn publisher(&self) -> anyhow::Result<String> {
        self.issue(Uuid::new_v4(), Some(PUBLISH_SCOPE))
            .context("minting the publisher token")
    }

    fn issue(&self, sub: Uuid, scope: Option<&str>) -> anyhow::Result<String> {
        // A clock before 1970 is not worth failing over: count from 0.
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let claims = Claims {
            sub,
            iat,
            exp: iat.saturating_add(self.ttl.as_secs()),
            scope,
        };
        Ok(jsonwebtoken::encode(
            &Header::default(),
            &claims,
            &self.key,
        )?)
    }
}

/// `count` new users; global user `first + i` lives on node `(first + i) mod nodes`.
pub fn make_users(
    tokens: &Tokens,
    first: usize,
    count: usize,
    nodes: usize,
) -> anyhow::Result<Vec<User>> {
    (first..first + count)
        .map(|global| {
            let id = Uuid::new_v4();
            Ok(User {
                id,
                token: tokens.user(id)?,
                node: global % nodes.max(1),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    use serde::Deserialize;

    const SECRET: &str = "a-bench-secret-of-at-least-32-bytes!";

    #[derive(Deserialize)]
    struct Read {
        sub: Uuid,
        scope: Option<String>,
    }

    fn verify(token: &str) -> Read {
        let key = DecodingKey::from_secret(SECRET.as_bytes());
        jsonwebtoken::decode::<Read>(token, &key, &Validation::new(Algorithm::HS256))
            .unwrap()
            .claims
    }

    #[test]
    fn users_alternate_over_the_nodes_and_their_tokens_verify() {
        let tokens = Tokens::new(SECRET, Duration::from_secs(60)).unwrap();
        let users = make_users(&tokens, 3, 4, 2).unwrap();
        let nodes: Vec<usize> = users.iter().map(|u| u.node).collect();
        assert_eq!(nodes, [1, 0, 1, 0]);

        let user = verify(&users[0].token);
        assert_eq!(user.sub, users[0].id);
        assert_eq!(user.scope, None);
        let publisher = verify(&tokens.publisher().unwrap());
        assert_eq!(publisher.scope.as_deref(), Some(PUBLISH_SCOPE));
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(Tokens::new("short", Duration::from_secs(60)).is_err());
    }
}

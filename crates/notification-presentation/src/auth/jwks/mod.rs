//! Verification keys from an identity provider's JWKS endpoint
//! (`JWT_JWKS_URL`, contract §9), so its keys rotate without a restart.
//!
//! - The set is fetched at start-up, then again every
//!   [`JwksSettings::refresh_every`], and whenever a token names a `kid` the
//!   cached set does not hold — unless the last fetch was less than
//!   [`JwksSettings::refetch_gap`] (10 s) ago, so made-up `kid`s cannot make
//!   the server hammer the provider. Concurrent requests with the same new
//!   `kid` wait for one fetch.
//! - A failed fetch keeps the keys already held. While none was ever loaded,
//!   readiness fails (`/readyz` 503), every token is refused (401), and the
//!   fetch is retried every `refetch_gap`; each failure is logged.
//! - `key_set`: reading one set; `fetch`: the HTTP client (with `TLS_CA_FILE`).

mod fetch;
mod key_set;

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use thiserror::Error;

use self::fetch::KeySource;
pub(crate) use self::key_set::KeySet;

/// The shortest wait between retries while no set is loaded, whatever
/// `refetch_gap` says (a zero gap must not spin).
const MIN_RETRY: Duration = Duration::from_secs(1);

/// Where the keys come from and how often they are fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwksSettings {
    /// `http://` or `https://` URL of the JWK set.
    pub url: String,
    /// A private CA (PEM) trusted beside the system's roots for an https URL.
    pub private_ca_pem: Option<Vec<u8>>,
    /// No fetch for an unknown `kid` sooner than this after the last one;
    /// also the retry period while no set was ever loaded.
    pub refetch_gap: Duration,
    /// The scheduled refetch, which picks up keys added ahead of a rotation
    /// and drops retired ones.
    pub refresh_every: Duration,
    /// Longest wait for one fetch (connect and body).
    pub fetch_timeout: Duration,
}

impl JwksSettings {
    /// The contract's timing: 10 s between fetches for unknown `kid`s, a
    /// scheduled refetch every 5 minutes, 5 s per fetch.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            private_ca_pem: None,
            refetch_gap: Duration::from_secs(10),
            refresh_every: Duration::from_secs(300),
            fetch_timeout: Duration::from_secs(5),
        }
    }
}

/// The JWKS cannot be used.
#[derive(Debug, Error)]
pub enum JwksError {
    /// A setting is wrong (the URL, the CA): the server must not start.
    #[error("{0}")]
    Config(String),
    #[error("fetching the JWKS from {url} failed: {reason}")]
    Fetch { url: String, reason: String },
    #[error("no JWKS has been loaded yet from {0}")]
    NotLoaded(String),
}

/// The cached key set and the policy for fetching it again.
pub struct JwksKeys {
    source: KeySource,
    settings: JwksSettings,
    current: RwLock<Option<Arc<KeySet>>>,
    /// When the last fetch started, successful or not.
    last_attempt: Mutex<Option<Instant>>,
    /// Held for the duration of a fetch: one at a time.
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for JwksKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksKeys")
            .field("url", &self.settings.url)
            .field("loaded", &self.is_loaded())
            .finish_non_exhaustive()
    }
}

impl JwksKeys {
    /// Checks the URL and the CA and builds the HTTP client; fetches nothing
    /// yet (see [`refresh`](Self::refresh) and [`keep_fresh`](Self::keep_fresh)).
    pub fn new(settings: JwksSettings) -> Result<Arc<Self>, JwksError> {
        Ok(Arc::new(Self {
            source: KeySource::new(&settings)?,
            settings,
            current: RwLock::new(None),
            last_attempt: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
        }))
    }

    /// Whether a set has been loaded (readiness).
    pub fn is_loaded(&self) -> bool {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// `Err(NotLoaded)` until a set has been loaded: readiness.
    pub fn check_loaded(&self) -> Result<(), JwksError> {
        if self.is_loaded() {
            Ok(())
        } else {
            Err(JwksError::NotLoaded(self.settings.url.clone()))
        }
    }

    /// The cached set, if any.
    pub(crate) fn current(&self) -> Option<Arc<KeySet>> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Fetches the set now, whenever the last fetch was; the keys held so far
    /// stay when it fails. Returns how many usable keys the new set holds.
    pub async fn refresh(&self) -> Result<usize, JwksError> {
        let _one_at_a_time = self.fetching.lock().await;
        self.fetch_and_keep().await
    }

    /// For a token whose `kid` is not in the cached set: fetches again,
    /// unless the last fetch started less than `refetch_gap` ago (then the
    /// cached set is the answer). Requests that arrive during a fetch wait
    /// for it instead of starting their own.
    pub(crate) async fn refresh_for_unknown_kid(&self) {
        let _one_at_a_time = self.fetching.lock().await;
        if self.fetched_recently() {
            return;
        }
        // Failures are logged there; the caller answers 401 either way.
        let _ = self.fetch_and_keep().await;
    }

    /// [`refresh_for_unknown_kid`](Self::refresh_for_unknown_kid) in the
    /// background, for callers that cannot wait (the in-band `auth` message of
    /// a WebSocket): the token at hand is refused, the next one finds the key.
    pub(crate) fn nudge(self: &Arc<Self>) {
        if self.fetched_recently() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let keys = Arc::clone(self);
            runtime.spawn(async move { keys.refresh_for_unknown_kid().await });
        }
    }

    /// Runs for ever: fetches every `refresh_every` once a set is loaded,
    /// every `refetch_gap` while none is. Spawn it beside the server and
    /// cancel it at shutdown.
    pub async fn keep_fresh(self: Arc<Self>) {
        loop {
            let wait = if self.is_loaded() {
                self.settings.refresh_every
            } else {
                self.settings.refetch_gap.max(MIN_RETRY)
            };
            tokio::time::sleep(wait).await;
            // Failures are logged there; the keys held so far stay.
            let _ = self.refresh().await;
        }
    }

    fn fetched_recently(&self) -> bool {
        self.last_attempt
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some_and(|at| at.elapsed() < self.settings.refetch_gap)
    }

    /// One fetch; the caller holds `fetching`.
    async fn fetch_and_keep(&self) -> Result<usize, JwksError> {
        *self
            .last_attempt
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        let fetched = self.source.fetch().await.and_then(|body| {
            KeySet::parse(&body).map_err(|e| JwksError::Fetch {
                url: self.settings.url.clone(),
                reason: e.to_string(),
            })
        });
        match fetched {
            Ok(read) => {
                for skipped in &read.skipped {
                    tracing::info!(url = %self.settings.url, %skipped, "JWKS key skipped");
                }
                let kids = read.set.kids();
                let count = kids.len();
                tracing::info!(url = %self.settings.url, ?kids, "JWKS loaded");
                *self.current.write().unwrap_or_else(PoisonError::into_inner) =
                    Some(Arc::new(read.set));
                Ok(count)
            }
            Err(error) => {
                let held = self.is_loaded();
                if held {
                    tracing::warn!(%error, "JWKS fetch failed; keeping the keys already loaded");
                } else {
                    tracing::warn!(%error, "JWKS fetch failed; every token is refused until it loads");
                }
                Err(error)
            }
        }
    }
}

//! The inbox page (`GET /`) and the JavaScript client (`GET /client/*`),
//! served from files embedded at build time (contract §8): nothing is read
//! from disk or fetched from elsewhere at run time.
//!
//! - [`assets`]: the embedded files (listed by `build.rs` from `apps/web/public`
//!   and `apps/web/client`), each with its media type and ETag.
//! - [`serve`]: the handler: the page's Content-Security-Policy, `no-cache` +
//!   ETag revalidation (a new binary's files are seen at the next load).

pub mod assets;
pub mod serve;

pub use serve::serve;

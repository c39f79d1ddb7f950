//! # notification-api
//!
//! The thin binary crate that wires the layers together; everything with
//! behaviour lives in the library crates.
//!
//! - [`cli`]: the command line (`serve`, `migrate`, `token`, `prune`) and every setting
//!   of contract §1 as a flag and an environment variable.
//! - [`settings`]: the raw values checked into typed [`Settings`]; a bad value
//!   stops start-up with one line naming the variable.
//! - [`telemetry`]: tracing and the Prometheus recorder.
//! - [`startup`]: [`Application`]: storage, event bus, service and HTTP server
//!   built from settings (tests build it on port 0 and read the port back).
//! - [`retention`]: deleting notifications older than `NOTIFICATION_RETENTION`
//!   (the background task and `prune`).
//! - [`dev_mode`]: the no-configuration mode with a random secret and ready tokens.

pub mod cli;
pub mod dev_mode;
pub mod retention;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use settings::{ConfigError, Settings};
pub use startup::{Application, ShutdownHandle, StartupError};

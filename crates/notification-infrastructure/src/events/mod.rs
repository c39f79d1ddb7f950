//! Event buses: implementations of the domain's `EventPublisher` port.
//!
//! - `in_process`: [`InProcessEventBus`], which hands each event straight to
//!   this process's subscribers (a single node).
//! - `redis_bus`: [`RedisEventBus`], which sends each event through a Redis
//!   pub/sub channel to the subscribers of every node.
//! - [`wire`]: the versioned encoding of events on a bus shared by nodes.

mod in_process;
mod redis_bus;
mod subscribers;
pub mod wire;

pub use in_process::InProcessEventBus;
pub use redis_bus::{RedisBusConfig, RedisBusError, RedisEventBus, DEFAULT_CHANNEL};

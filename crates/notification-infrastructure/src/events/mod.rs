//! Event buses: implementations of the domain's `EventPublisher` port.
//!
//! - `in_process`: [`InProcessEventBus`], which hands each event straight to
//!   this process's subscribers (a single node).

mod in_process;

pub use in_process::InProcessEventBus;

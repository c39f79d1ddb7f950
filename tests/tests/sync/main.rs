//! Exact sync (contract §7): the per-user change sequence as the sockets see
//! it, on real servers; the multi-node tests share PostgreSQL and Redis.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod lost_publish;
mod ordering;
mod resume;
mod slow_commit;
mod support;

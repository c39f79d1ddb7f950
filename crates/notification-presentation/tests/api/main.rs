//! HTTP tests of the presentation layer: the real actix app on the real SQLite
//! adapter, and a recording publisher. One test binary, one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod helpers;
mod token_keys;

//! HTTP tests of the presentation layer: the real actix app, an in-memory
//! repository and a recording publisher. One test binary, one module per area.

mod auth;
mod cors;
mod create;
mod helpers;
mod idempotency;
mod operations;
mod reads;
mod routing;
mod status_changes;
mod token_keys;
mod web_page;

//! A team's Slipway: one history and one release lock on a real PostgreSQL, shared by Slipway
//! processes with data folders of their own.

#[path = "../support/postgres.rs"]
mod postgres;
#[path = "../support/mod.rs"]
mod support;

mod server;

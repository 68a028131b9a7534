//! What differs between operating systems, one file per concern: child process groups,
//! this machine's names, private files. The rest of Slipway calls these and keeps no
//! `cfg` of its own for them. Linux is tested; macOS shares the unix side; the Windows
//! side is built by the desktop-bundles workflow only.
//!
//! Concerns that live whole in their own room keep their `cfg` there: the keyring
//! backend (the keyring crate), Docker Desktop's start (`docker/start.rs`), the engine's
//! local address (`docker/endpoint.rs`), the sandbox (`checks/sandbox.rs`, Linux only),
//! the window's hand-over socket (`instance.rs`) and the data folder (`paths.rs`).

pub mod files;
pub mod host;
pub mod process;

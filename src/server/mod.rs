//! HTTP(S) listener, authentication, limits, health (in progress).

pub mod config;

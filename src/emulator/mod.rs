//! Microsoft Graph emulator (in progress).

pub mod cli;

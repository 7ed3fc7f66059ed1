//! The `cardbridge` command line: each subcommand lives beside the module it drives.

use clap::{Parser, Subcommand};

/// jemalloc instead of glibc malloc: the first load from Graph allocates and frees
/// hundreds of MB of JSON pages and rows, which glibc keeps as fragmented heap, and
/// glibc's per-thread arenas keep what many users' logins and loads freed; jemalloc
/// gives it back (measured in BENCHMARKS.md "Memory").
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options (read once at its start): a background thread purges freed pages
/// about a second after they are freed, also while the server is idle (the default, 10 s
/// and only on later allocations, kept a first load's garbage resident).
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8] = b"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

#[derive(Parser)]
#[command(
    name = "cardbridge",
    version,
    about = "CardDAV server for Outlook / Microsoft 365 contacts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve CardDAV from the configuration file (see examples/).
    Serve(cardbridge::app::serve::ServeArgs),
    /// Load users' mirrors from Graph into the state file (progress bar), before `serve`.
    Sync(cardbridge::app::sync::SyncArgs),
    /// Bridge + Graph emulator with sample contacts on loopback; prints how to connect.
    Demo(cardbridge::app::demo::DemoArgs),
    /// Run the Microsoft Graph emulator (tests, benchmarks, demos).
    Emulator(cardbridge::emulator::cli::EmulatorArgs),
    /// Convert vCards ⇄ Graph contact JSON (stdin → stdout).
    Convert(cardbridge::vcard::convert::ConvertArgs),
    /// Manage CardDAV users and app passwords.
    User(cardbridge::server::user_cli::UserArgs),
    /// Probe a running server's /healthz (exit 0 when healthy).
    Healthcheck(cardbridge::healthcheck::HealthcheckArgs),
    /// Sign in to Microsoft 365 / Outlook.com (device code) and store the token.
    Login(cardbridge::graph::cli::LoginArgs),
    /// Check TLS files, the state file, users, sign-ins and scopes, Graph and the clock.
    Check(cardbridge::app::check::CheckArgs),
}

fn main() -> anyhow::Result<()> {
    // One crypto provider for the TLS listener and the Graph client (crates.md §1).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => cardbridge::app::serve::run(args).await,
            Command::Sync(args) => cardbridge::app::sync::run(args).await,
            Command::Demo(args) => cardbridge::app::demo::run(args).await,
            Command::Emulator(args) => cardbridge::emulator::cli::run(args).await,
            Command::Convert(args) => cardbridge::vcard::convert::run(args),
            Command::User(args) => cardbridge::server::user_cli::run(args),
            Command::Healthcheck(args) => cardbridge::healthcheck::run(args).await,
            Command::Login(args) => cardbridge::graph::cli::login(args).await,
            Command::Check(args) => cardbridge::app::check::run(args).await,
        }
    })
}

//! Process-wide logging: tracing-subscriber in text (people) or JSON (log shippers)
//! format, filtered by `RUST_LOG` when set.
//!
//! Nothing logged by `server` carries a secret: the access log names the user, never the
//! `Authorization` header, and passwords only ever live in `SecretString`s.
//!
//! The access log (one line per request: method, path without query, status, duration,
//! user, peer) uses the target `cardbridge::access`, so it can be filtered on its own,
//! e.g. `RUST_LOG=info,cardbridge::access=off`.

use serde::Deserialize;
use tracing_subscriber::EnvFilter;

/// Shape of log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Install the global subscriber. `default_filter` (e.g. `"info"`) applies when
/// `RUST_LOG` is unset or invalid. Calling it twice is harmless (the second call is a
/// no-op), so tests and `demo` can both call it.
pub fn init_logging(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // Colours only on a terminal: journald, docker logs and files get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

//! `cardbridge sync`: load (or catch up) users' mirrors into the state file before
//! `serve` starts (issue 11 item 4).
//!
//! The first load of a large mailbox takes a while (about one Graph request per page of
//! contacts, graph.md §4.8); done here, with a progress bar, the server later starts
//! from the state file and answers from the mirror without asking Graph again while the
//! data is within `freshness_secs` / `folder_tree_secs`. Run it again at any time: it is
//! the same delta round `serve` would make.
//!
//! Output goes to stdout: an `indicatif` bar (books done / total, contacts loaded, rate,
//! and the Graph requests so far, which move while one large book loads page by page)
//! on a terminal, plain lines otherwise (logs, CI, tests). One summary line per user
//! either way; the exit status is non-zero when any user failed.

use super::serve::accounts_from_config;
use crate::bridge::{Bridge, Progress};
use crate::config::Config;
use crate::dav::store::StoreError;
use crate::server::{UserStore, init_logging};
use crate::state::{RedbStore, SharedStore};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Arguments of `cardbridge sync`.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Configuration file (TOML); see examples/.
    #[arg(long, env = "CARDBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// The CardDAV user to sync; every user (and every `[[bridge.mailboxes]]` user)
    /// when absent.
    #[arg(long)]
    pub user: Option<String>,
}

/// Sync the chosen users one after the other.
pub async fn run(args: SyncArgs) -> anyhow::Result<()> {
    let mut cfg = Config::load(args.config.as_deref())?;
    cfg.graph.apply_env();
    // Logs on stderr, warnings only: stdout is the progress.
    init_logging(cfg.server.log_format, "warn");
    let store: SharedStore = Arc::new(
        RedbStore::open(&cfg.state.path)
            .with_context(|| format!("opening the state store {}", cfg.state.path.display()))?,
    );
    let known = all_users(&cfg, &UserStore::new(store.clone()))?;
    let users = match args.user {
        // A delegated sign-in serves any name; only a user `serve` would let in counts.
        Some(u) if !known.contains(&u) => anyhow::bail!(
            "no CardDAV user {u:?}: add it with `cardbridge user add {u}` (or a [[bridge.mailboxes]] entry)"
        ),
        Some(u) => vec![u],
        None => known,
    };
    if users.is_empty() {
        anyhow::bail!("no CardDAV users to sync: add one with `cardbridge user add NAME`");
    }
    let accounts = accounts_from_config(&cfg, store.clone())?;
    let bridge = Bridge::new(store, cfg.bridge.clone(), accounts.directory);
    let mut failed = Vec::new();
    for user in &users {
        if let Err(e) = sync_user(&bridge, user).await {
            eprintln!("{user}: {e:#}");
            failed.push(user.as_str());
        }
    }
    if !failed.is_empty() {
        anyhow::bail!("sync failed for {}", failed.join(", "));
    }
    Ok(())
}

/// CardDAV users of the state store plus the organisation's mailbox users, sorted.
fn all_users(cfg: &Config, users: &UserStore) -> anyhow::Result<Vec<String>> {
    let mut all = users.list().context("listing CardDAV users")?;
    all.extend(cfg.bridge.mailboxes.iter().map(|m| m.user.clone()));
    all.sort();
    all.dedup();
    Ok(all)
}

async fn sync_user(bridge: &Bridge, user: &str) -> anyhow::Result<Progress> {
    let started = Instant::now();
    let view = View::new(user, std::io::stdout().is_terminal());
    // The bridge reports per book; while a large book loads, the bar shows the Graph
    // requests made so far (one per page of contacts), so it visibly moves.
    let requests_before = bridge.graph_stats().requests;
    let observe = |p: &Progress| view.report(p, started.elapsed());
    let warm = bridge.warm_up_with(user, &observe);
    tokio::pin!(warm);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let out = loop {
        tokio::select! {
            out = &mut warm => break out,
            _ = tick.tick(), if view.is_bar() => {
                view.graph_requests(bridge.graph_stats().requests.saturating_sub(requests_before));
            }
        }
    };
    view.finish();
    let p = out.map_err(|e| match e {
        StoreError::NotFound => anyhow::anyhow!(
            "no Graph account for this user (sign in with `cardbridge login`, or add a [[bridge.mailboxes]] entry)"
        ),
        StoreError::SignInRequired => {
            anyhow::anyhow!("the Graph sign-in is no longer valid: run `cardbridge login` again")
        }
        other => anyhow::Error::new(other),
    })?;
    println!("{user}: {}", summary(&p, started.elapsed()));
    Ok(p)
}

/// Contacts per second, 0 before any time has passed.
fn rate(contacts: usize, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        contacts as f64 / secs
    } else {
        0.0
    }
}

/// The final line: `3 books, 1200 contacts in 2.1 s (571 contacts/s)`.
fn summary(p: &Progress, elapsed: Duration) -> String {
    format!(
        "{} books, {} contacts in {:.1} s ({:.0} contacts/s)",
        p.books_done,
        p.contacts,
        elapsed.as_secs_f64(),
        rate(p.contacts, elapsed)
    )
}

/// A progress bar on a terminal, plain lines elsewhere.
enum View {
    /// The bar, the last report's text, and the Graph requests made so far.
    Bar(ProgressBar, std::sync::Mutex<(String, u64)>),
    Lines(String),
}

impl View {
    fn new(user: &str, terminal: bool) -> Self {
        if !terminal {
            return View::Lines(user.to_owned());
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout());
        // The template is a constant: if it ever failed to parse, keep the default style.
        if let Ok(style) =
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} books  {msg}  {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(user.to_owned());
        bar.set_message("reading folders…");
        bar.enable_steady_tick(Duration::from_millis(250));
        View::Bar(bar, std::sync::Mutex::new(("reading folders…".into(), 0)))
    }

    fn is_bar(&self) -> bool {
        matches!(self, View::Bar(..))
    }

    /// Show `n` Graph requests next to the last report.
    fn graph_requests(&self, n: u64) {
        if let View::Bar(bar, shown) = self
            && let Ok(mut s) = shown.lock()
            && s.1 != n
        {
            s.1 = n;
            bar.set_message(format!("{}  ({n} Graph requests)", s.0));
        }
    }

    fn report(&self, p: &Progress, elapsed: Duration) {
        let line = format!(
            "{} contacts ({:.0}/s){}",
            p.contacts,
            rate(p.contacts, elapsed),
            p.book
                .as_deref()
                .map(|b| format!(", last book: {b}"))
                .unwrap_or_default()
        );
        match self {
            View::Bar(bar, shown) => {
                bar.set_length(p.books_total as u64);
                bar.set_position(p.books_done as u64);
                let n = shown.lock().map(|s| s.1).unwrap_or_default();
                bar.set_message(format!("{line}  ({n} Graph requests)"));
                if let Ok(mut s) = shown.lock() {
                    s.0 = line;
                }
            }
            View::Lines(user) => {
                println!("{user}: {}/{} books, {line}", p.books_done, p.books_total)
            }
        }
    }

    fn finish(&self) {
        if let View::Bar(bar, _) = self {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_books_contacts_and_rate() {
        let p = Progress {
            books_total: 3,
            books_done: 3,
            contacts: 1200,
            book: Some("Work".into()),
        };
        assert_eq!(
            summary(&p, Duration::from_secs(2)),
            "3 books, 1200 contacts in 2.0 s (600 contacts/s)"
        );
        assert_eq!(rate(10, Duration::ZERO), 0.0);
    }
}

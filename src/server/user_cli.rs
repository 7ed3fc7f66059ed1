//! `cardbridge user ...`: manage CardDAV users and their app passwords in the state
//! store named by `[state] path` of `--config`.
//!
//! Passwords are generated (and printed once, alone on stdout, so scripts can capture
//! them) unless `--password-stdin` supplies one. They are never taken from the command
//! line, where `ps` and shell history would see them. The redb store is opened
//! exclusively, so stop a running server before managing users from the CLI.

use super::users::UserStore;
use crate::state::{RedbStore, SharedStore};
use anyhow::Context as _;
use secrecy::{ExposeSecret, SecretString};
use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `cardbridge user`.
#[derive(Debug, clap::Args)]
pub struct UserArgs {
    /// Configuration file (its `[state] path` locates the user store).
    #[arg(long, global = true, env = "CARDBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: UserCommand,
}

/// `cardbridge user` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user; prints a generated app password once unless --password-stdin.
    Add {
        name: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Replace all of a user's app passwords with a new one (ends their sessions).
    Password {
        name: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List user names.
    List,
    /// List a user's app passwords (id, label, creation time; never the password).
    Passwords { name: String },
    /// Give a user one more app password (one per device); prints it once.
    AddPassword {
        name: String,
        /// What the password is for, e.g. "iPhone".
        #[arg(long, default_value = "app")]
        label: String,
    },
    /// Revoke one app password by id (see `user passwords`).
    Revoke { name: String, id: String },
    /// Delete a user.
    Remove { name: String },
}

fn open_store(config: Option<&std::path::Path>) -> anyhow::Result<UserStore> {
    let config = crate::config::Config::load(config)?;
    let path = &config.state.path;
    let store = RedbStore::open(path).with_context(|| {
        format!(
            "cannot open the state store {} (is `cardbridge serve` running? stop it first)",
            path.display()
        )
    })?;
    let shared: SharedStore = Arc::new(store);
    Ok(UserStore::new(shared))
}

fn read_password_stdin() -> anyhow::Result<SecretString> {
    let mut text = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut text)
        .context("reading the password from stdin")?;
    let trimmed = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    Ok(SecretString::from(trimmed.to_owned()))
}

/// The password to set and whether it was generated (then it must be shown).
fn choose_password(from_stdin: bool) -> anyhow::Result<(SecretString, bool)> {
    if from_stdin {
        Ok((read_password_stdin()?, false))
    } else {
        Ok((UserStore::generate_password(), true))
    }
}

fn show_once(name: &str, password: &SecretString) -> anyhow::Result<()> {
    eprintln!("App password for {name} (shown only now; use it as the CardDAV password):");
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", password.expose_secret())?;
    out.flush()?;
    Ok(())
}

/// Run one `cardbridge user` command.
pub fn run(args: UserArgs) -> anyhow::Result<()> {
    let users = open_store(args.config.as_deref())?;
    match args.command {
        UserCommand::Add {
            name,
            password_stdin,
        } => {
            let (password, generated) = choose_password(password_stdin)?;
            users.add_user(&name, &password)?;
            eprintln!("created user {}", name.to_ascii_lowercase());
            if generated {
                show_once(&name.to_ascii_lowercase(), &password)?;
            }
        }
        UserCommand::Password {
            name,
            password_stdin,
        } => {
            let (password, generated) = choose_password(password_stdin)?;
            users.set_password(&name, &password)?;
            eprintln!("password of {} replaced", name.to_ascii_lowercase());
            if generated {
                show_once(&name.to_ascii_lowercase(), &password)?;
            }
        }
        UserCommand::List => {
            let mut out = std::io::stdout().lock();
            for name in users.list()? {
                writeln!(out, "{name}")?;
            }
        }
        UserCommand::Passwords { name } => {
            let mut out = std::io::stdout().lock();
            for p in users.app_passwords(&name)? {
                writeln!(out, "{}\t{}\t{}", p.id, p.label, p.created.to_rfc3339())?;
            }
        }
        UserCommand::AddPassword { name, label } => {
            let (id, password) = users.add_app_password(&name, &label)?;
            eprintln!("app password {id} added to {}", name.to_ascii_lowercase());
            show_once(&name.to_ascii_lowercase(), &password)?;
        }
        UserCommand::Revoke { name, id } => {
            users.revoke_app_password(&name, &id)?;
            eprintln!("app password {id} of {} revoked", name.to_ascii_lowercase());
        }
        UserCommand::Remove { name } => {
            users.remove(&name)?;
            eprintln!("removed user {}", name.to_ascii_lowercase());
        }
    }
    Ok(())
}

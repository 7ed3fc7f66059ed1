//! Which Graph mailbox a CardDAV user reads (issue 5 item 7; DESIGN.md "Upstream auth").
//!
//! The bridge asks an [`AccountDirectory`] for the [`Account`] of an authenticated user
//! on every request. Three directories: [`StaticAccounts`] (tests, demo),
//! [`SingleMailbox`] (one delegated `/me` account served to the configured users) and
//! [`OrganizationMailboxes`] (one app-only client, `/users/{upn}` per user from the
//! `[[bridge.mailboxes]]` list). The mirror is keyed by [`Account::key`], so several
//! CardDAV users of one mailbox share one mirror.

use super::config::MailboxEntry;
use crate::graph::{GraphClient, Mailbox};
use std::collections::HashMap;

/// A Graph mailbox as the bridge addresses it.
#[derive(Clone)]
pub struct Account {
    /// Stable id for state keys (no NUL).
    pub key: String,
    pub client: GraphClient,
    pub mailbox: Mailbox,
    /// Principal display name.
    pub display_name: String,
}

/// Maps an authenticated CardDAV user to the account it reads.
pub trait AccountDirectory: Send + Sync + 'static {
    /// The user's account, or `None` (the user then has no books: `NotFound`).
    fn account(&self, user: &str) -> Option<Account>;
}

/// A fixed user → account table.
#[derive(Default, Clone)]
pub struct StaticAccounts {
    accounts: HashMap<String, Account>,
}

impl StaticAccounts {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn with(mut self, user: &str, account: Account) -> Self {
        self.insert(user, account);
        self
    }
    pub fn insert(&mut self, user: &str, account: Account) {
        self.accounts.insert(user.to_owned(), account);
    }
}

impl AccountDirectory for StaticAccounts {
    fn account(&self, user: &str) -> Option<Account> {
        self.accounts.get(user).cloned()
    }
}

/// One delegated account (`/me`) served to every configured CardDAV user.
#[derive(Clone)]
pub struct SingleMailbox {
    account: Account,
    users: Vec<String>,
}

impl SingleMailbox {
    /// `key` names the account in the state store (for example the signed-in UPN).
    pub fn new(key: &str, client: GraphClient, display_name: &str, users: Vec<String>) -> Self {
        Self {
            account: Account {
                key: key.to_owned(),
                client,
                mailbox: Mailbox::Me,
                display_name: display_name.to_owned(),
            },
            users,
        }
    }
}

impl AccountDirectory for SingleMailbox {
    fn account(&self, user: &str) -> Option<Account> {
        self.users
            .iter()
            .any(|u| u == user)
            .then(|| self.account.clone())
    }
}

/// An organisation: one app-only client, a mailbox (`/users/{upn}`) per CardDAV user.
#[derive(Clone)]
pub struct OrganizationMailboxes {
    client: GraphClient,
    mailboxes: HashMap<String, (String, String)>,
}

impl OrganizationMailboxes {
    /// From the `[[bridge.mailboxes]]` list.
    pub fn new(client: GraphClient, entries: &[MailboxEntry]) -> Self {
        let mailboxes = entries
            .iter()
            .map(|e| {
                let display = e.display_name.clone().unwrap_or_else(|| e.user.clone());
                (e.user.clone(), (e.mailbox.clone(), display))
            })
            .collect();
        Self { client, mailboxes }
    }
}

impl AccountDirectory for OrganizationMailboxes {
    fn account(&self, user: &str) -> Option<Account> {
        let (upn, display) = self.mailboxes.get(user)?;
        Some(Account {
            key: format!("users/{}", upn.to_lowercase()),
            client: self.client.clone(),
            mailbox: Mailbox::User(upn.clone()),
            display_name: display.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{GraphClientOptions, StaticToken};
    use std::sync::Arc;

    fn client() -> GraphClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        GraphClient::new(
            GraphClientOptions {
                graph_root: "http://127.0.0.1:9".into(),
                ..Default::default()
            },
            Arc::new(StaticToken::new("t")),
        )
        .expect("client")
    }

    #[test]
    fn single_mailbox_serves_only_its_users_as_me() {
        let d = SingleMailbox::new("me@contoso.com", client(), "Me", vec!["alice".into()]);
        let a = d.account("alice").unwrap();
        assert_eq!(a.mailbox, Mailbox::Me);
        assert_eq!(a.key, "me@contoso.com");
        assert!(d.account("bob").is_none());
    }

    #[test]
    fn organization_maps_users_to_their_mailboxes() {
        let d = OrganizationMailboxes::new(
            client(),
            &[MailboxEntry {
                user: "bob".into(),
                mailbox: "Bob@Contoso.com".into(),
                display_name: None,
            }],
        );
        let a = d.account("bob").unwrap();
        assert_eq!(a.mailbox, Mailbox::User("Bob@Contoso.com".into()));
        assert_eq!(a.key, "users/bob@contoso.com");
        assert_eq!(a.display_name, "bob");
        assert!(d.account("alice").is_none());
        let s = StaticAccounts::new().with("carol", a);
        assert!(s.account("carol").is_some() && s.account("bob").is_none());
    }
}

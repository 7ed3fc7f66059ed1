//! `[bridge]` section: mirror freshness, delta paging, journal retention, polling, group
//! cards and the organisation mailbox list (DESIGN.md "Reads come from the mirror",
//! "Sync tokens", "Groups").
//!
//! Every field has a default, so an empty `[bridge]` (or none) is a working setup.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// A read within this many seconds of the last refresh of a folder makes no Graph call.
    #[serde(default = "default_freshness")]
    pub freshness_secs: u64,
    /// The folder tree (which address books exist) is refreshed at most this often.
    #[serde(default = "default_folder_tree")]
    pub folder_tree_secs: u64,
    /// `Prefer: odata.maxpagesize` of delta rounds (graph.md §4.8: no `$top` on delta).
    #[serde(default = "default_page_size")]
    pub delta_page_size: u32,
    /// Journal revisions kept per address book; a sync token older than that is
    /// answered with `valid-sync-token` (the client then does a full sync); 0 keeps all.
    #[serde(default = "default_retention")]
    pub journal_retention: u64,
    /// Background delta polling of every loaded account; 0 = off (reads refresh lazily).
    #[serde(default)]
    pub poll_interval_secs: u64,
    /// Largest number of members in one sync-collection answer when the client sends no
    /// `limit` (the rest follows with a continuation token); 0 = no cap.
    #[serde(default)]
    pub sync_limit: usize,
    /// Serve every Graph category of a book also as a group vCard, for every user
    /// (Apple Contacts, DAVx5 in group-vCard mode; DESIGN.md "Groups"). Off by default:
    /// Thunderbird shows group cards as odd contacts.
    #[serde(default)]
    pub group_cards: bool,
    /// CardDAV users who get group cards even when `group_cards` is off.
    #[serde(default)]
    pub group_card_users: Vec<String>,
    /// App-only organisations: which CardDAV user reads which mailbox (`/users/{upn}`).
    #[serde(default)]
    pub mailboxes: Vec<MailboxEntry>,
    /// A book whose first load brings at least this many contacts is rebuilt from the
    /// state store right after, so its entries sit together in memory (see `refresh`).
    #[serde(default = "default_compact_above")]
    pub compact_first_load_above: usize,
}

impl BridgeConfig {
    /// Whether `user` is served group cards.
    pub fn group_cards_for(&self, user: &str) -> bool {
        self.group_cards || self.group_card_users.iter().any(|u| u == user)
    }

    /// Whether any user may be served group cards (group changes are then journaled).
    pub fn any_group_cards(&self) -> bool {
        self.group_cards || !self.group_card_users.is_empty()
    }
}

/// One CardDAV user ⇄ mailbox pair of an organisation served with an app-only token.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MailboxEntry {
    /// The CardDAV user name.
    pub user: String,
    /// The mailbox's user principal name or id (`/users/{mailbox}`).
    pub mailbox: String,
    /// Principal display name; the user name when absent.
    #[serde(default)]
    pub display_name: Option<String>,
}

fn default_freshness() -> u64 {
    5
}
fn default_folder_tree() -> u64 {
    300
}
fn default_page_size() -> u32 {
    500
}
fn default_compact_above() -> usize {
    10_000
}
fn default_retention() -> u64 {
    100_000
}

impl Default for BridgeConfig {
    fn default() -> Self {
        Self {
            freshness_secs: default_freshness(),
            folder_tree_secs: default_folder_tree(),
            delta_page_size: default_page_size(),
            journal_retention: default_retention(),
            compact_first_load_above: default_compact_above(),
            poll_interval_secs: 0,
            sync_limit: 0,
            group_cards: false,
            group_card_users: Vec::new(),
            mailboxes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_section_gives_defaults_and_unknown_keys_fail() {
        let c: BridgeConfig = toml::from_str("").unwrap();
        assert_eq!(c, BridgeConfig::default());
        assert_eq!(c.freshness_secs, 5);
        assert_eq!(c.delta_page_size, 500);
        assert!(toml::from_str::<BridgeConfig>("freshnes_secs = 3").is_err());
    }

    #[test]
    fn mailboxes_parse() {
        let c: BridgeConfig = toml::from_str(
            "poll_interval_secs = 60\n[[mailboxes]]\nuser = \"alice\"\nmailbox = \"alice@contoso.com\"\n",
        )
        .unwrap();
        assert_eq!(c.poll_interval_secs, 60);
        assert_eq!(c.mailboxes[0].mailbox, "alice@contoso.com");
        assert_eq!(c.mailboxes[0].display_name, None);
    }

    #[test]
    fn group_cards_globally_or_per_user() {
        let c = BridgeConfig::default();
        assert!(!c.group_cards_for("alice") && !c.any_group_cards());
        let c: BridgeConfig = toml::from_str("group_card_users = [\"bob\"]").unwrap();
        assert!(c.group_cards_for("bob") && !c.group_cards_for("alice"));
        assert!(c.any_group_cards());
        let c: BridgeConfig = toml::from_str("group_cards = true").unwrap();
        assert!(c.group_cards_for("alice"));
    }
}

//! Durable state behind one trait (DESIGN.md, "state").
//!
//! Every other module keeps what must survive a restart (users and app passwords, Graph
//! tokens, the mirror, the href map, the change journal, delta links) through
//! [`KvStore`]: a small ordered key-value interface with named tables and atomic
//! multi-table write batches. Typed access lives beside the data it describes (for
//! example `bridge` encodes its mirror rows); this module only guarantees that a batch
//! is applied entirely or not at all, so a crash mid-write leaves the previous
//! consistent state.
//!
//! Two implementations: [`RedbStore`] (the default, an embedded redb file created with
//! owner-only permissions) and [`MemoryStore`] (tests and the in-memory demo). A
//! PostgreSQL backend for several instances sharing users would implement the same trait.

mod memory;
mod redb_store;

pub use memory::MemoryStore;
pub use redb_store::RedbStore;

use std::sync::Arc;

/// The tables of the state store. Each is an ordered map from bytes to bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// CardDAV users: user name → serialized user record (argon2 app-password hashes).
    Users,
    /// Graph accounts and their OAuth tokens (encrypted when a key is configured).
    Accounts,
    /// Mirror: folder tree and contact rows, keyed by account / folder / contact.
    Mirror,
    /// href ⇄ Graph id map.
    Hrefs,
    /// Change journal per address book (revision → change).
    Journal,
    /// Delta links and other per-folder sync bookkeeping.
    Sync,
    /// Anything else small (schema version, instance secrets).
    Meta,
}

impl Table {
    /// Every table, in a fixed order.
    pub const ALL: [Table; 7] = [
        Table::Users,
        Table::Accounts,
        Table::Mirror,
        Table::Hrefs,
        Table::Journal,
        Table::Sync,
        Table::Meta,
    ];

    /// The table's stable name on disk.
    pub fn name(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::Accounts => "accounts",
            Table::Mirror => "mirror",
            Table::Hrefs => "hrefs",
            Table::Journal => "journal",
            Table::Sync => "sync",
            Table::Meta => "meta",
        }
    }
}

/// One write in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Put {
        table: Table,
        key: Vec<u8>,
        value: Vec<u8>,
    },
    Delete {
        table: Table,
        key: Vec<u8>,
    },
    /// Delete every key that starts with `prefix`.
    DeletePrefix {
        table: Table,
        prefix: Vec<u8>,
    },
}

/// An ordered list of writes applied atomically by [`KvStore::commit`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    pub writes: Vec<Write>,
}

impl WriteBatch {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn put(&mut self, table: Table, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.writes.push(Write::Put {
            table,
            key: key.into(),
            value: value.into(),
        });
    }
    pub fn delete(&mut self, table: Table, key: impl Into<Vec<u8>>) {
        self.writes.push(Write::Delete {
            table,
            key: key.into(),
        });
    }
    pub fn delete_prefix(&mut self, table: Table, prefix: impl Into<Vec<u8>>) {
        self.writes.push(Write::DeletePrefix {
            table,
            prefix: prefix.into(),
        });
    }
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }
}

/// Errors of the state store.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state store I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("state store backend: {0}")]
    Backend(String),
    #[error("state store record is corrupt: {0}")]
    Corrupt(String),
}

/// Ordered key-value store with atomic batches. Calls are synchronous and short (redb
/// reads take about a microsecond); callers on async paths batch their writes.
pub trait KvStore: Send + Sync + 'static {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
    /// All entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, table: Table, prefix: &[u8]) -> Result<Rows, StateError>;
    /// Apply every write of the batch, or none of them.
    fn commit(&self, batch: WriteBatch) -> Result<(), StateError>;

    fn put(&self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        let mut b = WriteBatch::new();
        b.put(table, key, value);
        self.commit(b)
    }
    fn delete(&self, table: Table, key: &[u8]) -> Result<(), StateError> {
        let mut b = WriteBatch::new();
        b.delete(table, key);
        self.commit(b)
    }
}

/// Key-value pairs returned by a prefix scan, in key order.
pub type Rows = Vec<(Vec<u8>, Vec<u8>)>;

/// Shared handle to a state store.
pub type SharedStore = Arc<dyn KvStore>;

/// Smallest key greater than every key with this prefix, or `None` when the prefix is
/// all `0xff` (then the range is unbounded above).
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
pub(crate) mod contract {
    //! The behaviour every [`KvStore`] must have; run by each implementation's tests.
    use super::*;

    pub fn check(store: &dyn KvStore) {
        assert_eq!(store.get(Table::Users, b"a").unwrap(), None);
        let mut b = WriteBatch::new();
        b.put(Table::Users, b"a/1", b"one");
        b.put(Table::Users, b"a/2", b"two");
        b.put(Table::Users, b"b/1", b"other");
        b.put(Table::Mirror, b"a/1", b"mirror");
        store.commit(b).unwrap();
        assert_eq!(
            store.get(Table::Users, b"a/1").unwrap().as_deref(),
            Some(&b"one"[..])
        );
        let rows = store.scan_prefix(Table::Users, b"a/").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, b"a/1");
        assert_eq!(rows[1].1, b"two");
        let mut b = WriteBatch::new();
        b.delete_prefix(Table::Users, b"a/");
        b.put(Table::Users, b"c", b"c");
        store.commit(b).unwrap();
        assert!(store.scan_prefix(Table::Users, b"a/").unwrap().is_empty());
        assert_eq!(store.scan_prefix(Table::Users, b"").unwrap().len(), 2);
        assert_eq!(
            store.get(Table::Mirror, b"a/1").unwrap().as_deref(),
            Some(&b"mirror"[..])
        );
        store.delete(Table::Users, b"c").unwrap();
        assert_eq!(store.get(Table::Users, b"c").unwrap(), None);
    }

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[0x61, 0xff]), Some(vec![0x62]));
        assert_eq!(prefix_end(&[0xff]), None);
    }
}

//! The default [`KvStore`]: one redb file (pure Rust, ACID, crash-safe commits).
//!
//! The file is created with mode 0600 on Unix because it holds app-password hashes and
//! Graph tokens. Each [`Table`] is a redb table `&[u8] → &[u8]`; a [`WriteBatch`] is one
//! redb write transaction.

use super::{KvStore, Rows, StateError, Table, Write, WriteBatch, prefix_end};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;

fn def(table: Table) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(table.name())
}

fn backend(e: impl std::fmt::Display) -> StateError {
    StateError::Backend(e.to_string())
}

/// redb's page cache. Its default (1 GiB) would, over time, hold the whole file in memory
/// next to the mirror, which already holds every row it needs (issue 9: memory per
/// contact); the bridge reads the file in bulk only when a book is loaded.
const CACHE_BYTES: usize = 16 * 1024 * 1024;

/// A redb-backed state store.
pub struct RedbStore {
    db: Database,
}

impl RedbStore {
    /// Open (or create) the store at `path`, restricting the file to its owner.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        if !path.exists() {
            create_private_file(path)?;
        }
        restrict_permissions(path)?;
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(backend)?;
        // Create every table up front so reads never see "table does not exist".
        let tx = db.begin_write().map_err(backend)?;
        for t in Table::ALL {
            tx.open_table(def(t)).map_err(backend)?;
        }
        tx.commit().map_err(backend)?;
        Ok(Self { db })
    }
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> Result<(), StateError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    Ok(())
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> Result<(), StateError> {
    std::fs::File::create(path)?;
    Ok(())
}

#[cfg(unix)]
fn restrict_permissions(path: &Path) -> Result<(), StateError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &Path) -> Result<(), StateError> {
    Ok(())
}

impl KvStore for RedbStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        let tx = self.db.begin_read().map_err(backend)?;
        let t = tx.open_table(def(table)).map_err(backend)?;
        Ok(t.get(key).map_err(backend)?.map(|v| v.value().to_vec()))
    }

    fn scan_prefix(&self, table: Table, prefix: &[u8]) -> Result<Rows, StateError> {
        let tx = self.db.begin_read().map_err(backend)?;
        let t = tx.open_table(def(table)).map_err(backend)?;
        let mut out = Vec::new();
        let iter = match prefix_end(prefix) {
            Some(end) => t.range(prefix..end.as_slice()).map_err(backend)?,
            None => t.range(prefix..).map_err(backend)?,
        };
        for row in iter {
            let (k, v) = row.map_err(backend)?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    fn commit(&self, batch: WriteBatch) -> Result<(), StateError> {
        if batch.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().map_err(backend)?;
        for w in batch.writes {
            match w {
                Write::Put { table, key, value } => {
                    let mut t = tx.open_table(def(table)).map_err(backend)?;
                    t.insert(key.as_slice(), value.as_slice())
                        .map_err(backend)?;
                }
                Write::Delete { table, key } => {
                    let mut t = tx.open_table(def(table)).map_err(backend)?;
                    t.remove(key.as_slice()).map_err(backend)?;
                }
                Write::DeletePrefix { table, prefix } => {
                    let mut t = tx.open_table(def(table)).map_err(backend)?;
                    let keys: Vec<Vec<u8>> = {
                        let iter = match prefix_end(&prefix) {
                            Some(end) => t.range(prefix.as_slice()..end.as_slice()),
                            None => t.range(prefix.as_slice()..),
                        }
                        .map_err(backend)?;
                        let mut keys = Vec::new();
                        for row in iter {
                            keys.push(row.map_err(backend)?.0.value().to_vec());
                        }
                        keys
                    };
                    for k in keys {
                        t.remove(k.as_slice()).map_err(backend)?;
                    }
                }
            }
        }
        tx.commit().map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn satisfies_the_store_contract_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        {
            let s = RedbStore::open(&path).unwrap();
            super::super::contract::check(&s);
            s.put(Table::Meta, b"k", b"v").unwrap();
        }
        let s = RedbStore::open(&path).unwrap();
        assert_eq!(
            s.get(Table::Meta, b"k").unwrap().as_deref(),
            Some(&b"v"[..])
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}

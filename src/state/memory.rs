//! In-memory [`KvStore`]: for tests and for a demo that needs no file.

use super::{KvStore, Rows, StateError, Table, Write, WriteBatch};
use std::collections::BTreeMap;
use std::sync::RwLock;

/// A row's address: its table and key.
type TableKey = (Table, Vec<u8>);

/// A [`KvStore`] held in memory; batches are atomic under one lock.
#[derive(Default)]
pub struct MemoryStore {
    tables: RwLock<BTreeMap<TableKey, Vec<u8>>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

fn poisoned() -> StateError {
    StateError::Backend("memory store lock poisoned".into())
}

impl KvStore for MemoryStore {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        let t = self.tables.read().map_err(|_| poisoned())?;
        Ok(t.get(&(table, key.to_vec())).cloned())
    }

    fn scan_prefix(&self, table: Table, prefix: &[u8]) -> Result<Rows, StateError> {
        let t = self.tables.read().map_err(|_| poisoned())?;
        Ok(t.range((table, prefix.to_vec())..)
            .take_while(|((tb, k), _)| *tb == table && k.starts_with(prefix))
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    fn commit(&self, batch: WriteBatch) -> Result<(), StateError> {
        let mut t = self.tables.write().map_err(|_| poisoned())?;
        for w in batch.writes {
            match w {
                Write::Put { table, key, value } => {
                    t.insert((table, key), value);
                }
                Write::Delete { table, key } => {
                    t.remove(&(table, key));
                }
                Write::DeletePrefix { table, prefix } => {
                    t.retain(|(tb, k), _| !(*tb == table && k.starts_with(&prefix)));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn satisfies_the_store_contract() {
        super::super::contract::check(&super::MemoryStore::new());
    }
}

//! Address books = contact folders (DESIGN.md "Address books = contact folders";
//! graph.md §2.6, §4.7).
//!
//! The tree is the default Contacts folder (segment `contacts`, listed first: macOS uses
//! only the first book) and every folder below it, parents before children. Segments
//! and sync-token instances of known folders never change; a new folder gets a segment
//! derived from its id, a folder created by MKCOL keeps the client's segment. A folder
//! that disappeared takes its rows with it in the same batch as the new tree.

use super::errors::{from_graph, from_state};
use super::hrefs::{DEFAULT_BOOK, segment_for_folder_id, valid_segment};
use super::mirror::BookData;
use super::records::{self, BookRec, FolderTreeRec};
use super::sync_token::{SyncToken, ctag, new_instance};
use super::{AccountMirror, Book, Bridge, SingleFlight, lock};
use crate::dav::store::{BookInfo, BookPatch, StoreError, StoreResult};
use crate::graph::model::ContactFolder;
use crate::state::{Table, WriteBatch};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

impl Bridge {
    /// Read the folder tree from Graph and reconcile the books (single-flight caller).
    pub(crate) async fn refresh_tree(&self, m: &Arc<AccountMirror>) -> StoreResult<()> {
        let acct = &m.account;
        let started = SystemTime::now();
        let default = acct
            .client
            .default_folder(&acct.mailbox)
            .await
            .map_err(from_graph)?;
        let children = acct
            .client
            .folder_tree(&acct.mailbox)
            .await
            .map_err(from_graph)?;
        let mut tree = lock!(m.tree.write())?;
        let old: HashMap<String, Arc<Book>> = tree
            .books
            .iter()
            .filter_map(|b| Some((b.rec.read().ok()?.folder_id.clone(), b.clone())))
            .collect();
        let mut used: HashSet<String> = HashSet::new();
        let mut books = Vec::new();
        let folders =
            std::iter::once((default, true)).chain(children.into_iter().map(|f| (f, false)));
        for (folder, is_default) in folders {
            let (Some(id), name) = (folder.id.clone(), folder.display_name.clone()) else {
                continue;
            };
            let name = name.unwrap_or_default();
            if let Some(b) = old.get(&id) {
                {
                    let mut r = lock!(b.rec.write())?;
                    r.display_name = name;
                    r.is_default = is_default;
                    used.insert(r.segment.clone());
                }
                books.push(b.clone());
                continue;
            }
            let segment = if is_default {
                DEFAULT_BOOK.to_owned()
            } else {
                let taken = |s: &str| {
                    s == DEFAULT_BOOK
                        || used.contains(s)
                        || old
                            .values()
                            .any(|b| b.rec.read().is_ok_and(|r| r.segment == s))
                };
                let mut attempt = 0;
                let mut s = segment_for_folder_id(&id, attempt);
                while taken(&s) {
                    attempt += 1;
                    s = segment_for_folder_id(&id, attempt);
                }
                s
            };
            used.insert(segment.clone());
            books.push(new_book(
                &self.store,
                &acct.key,
                BookRec {
                    segment,
                    folder_id: id,
                    display_name: name,
                    description: None,
                    instance: new_instance(),
                    is_default,
                },
            ));
        }
        let mut batch = WriteBatch::new();
        let kept: HashSet<*const Book> = books.iter().map(Arc::as_ptr).collect();
        for b in &tree.books {
            if !kept.contains(&Arc::as_ptr(b)) {
                let seg = lock!(b.rec.read())?.segment.clone();
                drop_book_rows(&mut batch, &acct.key, &seg);
            }
        }
        let rec = tree_record(&books, Some(started))?;
        batch.put(
            Table::Mirror,
            records::folders_key(&acct.key),
            records::encode(&rec).map_err(from_state)?,
        );
        self.store.commit(batch).map_err(from_state)?;
        tree.books = books;
        tree.refreshed = Some(started);
        Ok(())
    }

    /// Extended MKCOL: create a folder under the default one, served at `segment`.
    pub(crate) async fn create_book_impl(
        &self,
        user: &str,
        segment: &str,
        patch: BookPatch,
    ) -> StoreResult<BookInfo> {
        if !valid_segment(segment) {
            return Err(StoreError::Forbidden(
                "address book names are limited to letters, digits and -_.~@".into(),
            ));
        }
        let m = self.mirror(user).await?;
        self.ensure_tree(&m, false).await?;
        if m.book(segment).is_ok() {
            return Err(StoreError::AlreadyExists);
        }
        let acct = &m.account;
        let name = patch
            .displayname
            .clone()
            .unwrap_or_else(|| segment.to_owned());
        let folder: ContactFolder = acct
            .client
            .create_folder(&acct.mailbox, None, &name)
            .await
            .map_err(from_graph)?;
        let id = folder
            .id
            .ok_or_else(|| StoreError::Internal("Graph created a folder without an id".into()))?;
        let book = new_book(
            &self.store,
            &acct.key,
            BookRec {
                segment: segment.to_owned(),
                folder_id: id,
                display_name: folder.display_name.unwrap_or(name),
                description: patch.description.flatten(),
                instance: new_instance(),
                is_default: false,
            },
        );
        {
            let mut tree = lock!(m.tree.write())?;
            // A concurrent tree refresh may already have added the folder under a derived
            // segment: the client's segment wins.
            let fid = lock!(book.rec.read())?.folder_id.clone();
            tree.books
                .retain(|b| b.rec.read().map(|r| r.folder_id != fid).unwrap_or(true));
            tree.books.push(book.clone());
            self.persist_tree(&acct.key, &tree.books, tree.refreshed)?;
        }
        book_info(&book)
    }

    /// PROPPATCH of a book: rename the folder; the description is the bridge's own.
    pub(crate) async fn update_book_impl(
        &self,
        user: &str,
        segment: &str,
        patch: BookPatch,
    ) -> StoreResult<BookInfo> {
        let m = self.mirror(user).await?;
        self.ensure_tree(&m, false).await?;
        let book = m.book(segment)?;
        if let Some(name) = &patch.displayname {
            let (id, is_default) = {
                let r = lock!(book.rec.read())?;
                (r.folder_id.clone(), r.is_default)
            };
            if is_default {
                return Err(StoreError::Forbidden(
                    "the default Contacts folder cannot be renamed".into(),
                ));
            }
            let acct = &m.account;
            let f = acct
                .client
                .rename_folder(&acct.mailbox, &id, name)
                .await
                .map_err(from_graph)?;
            lock!(book.rec.write())?.display_name = f.display_name.unwrap_or_else(|| name.clone());
        }
        if let Some(d) = patch.description {
            lock!(book.rec.write())?.description = d;
        }
        let tree = lock!(m.tree.read())?;
        self.persist_tree(&m.account.key, &tree.books, tree.refreshed)?;
        drop(tree);
        book_info(&book)
    }

    /// DELETE of a book: the folder and its contacts go in Graph, then here.
    pub(crate) async fn delete_book_impl(&self, user: &str, segment: &str) -> StoreResult<()> {
        let m = self.mirror(user).await?;
        self.ensure_tree(&m, false).await?;
        let book = m.book(segment)?;
        let (id, is_default) = {
            let r = lock!(book.rec.read())?;
            (r.folder_id.clone(), r.is_default)
        };
        if is_default {
            return Err(StoreError::Forbidden(
                "the default Contacts folder cannot be deleted".into(),
            ));
        }
        let acct = &m.account;
        let _guard = book.flight.exclusive().await;
        match acct.client.delete_folder(&acct.mailbox, &id).await {
            Ok(()) | Err(crate::graph::GraphError::NotFound { .. }) => {}
            Err(e) => return Err(from_graph(e)),
        }
        let mut tree = lock!(m.tree.write())?;
        tree.books.retain(|b| !Arc::ptr_eq(b, &book));
        let mut batch = WriteBatch::new();
        drop_book_rows(&mut batch, &acct.key, segment);
        let rec = tree_record(&tree.books, tree.refreshed)?;
        batch.put(
            Table::Mirror,
            records::folders_key(&acct.key),
            records::encode(&rec).map_err(from_state)?,
        );
        self.store.commit(batch).map_err(from_state)?;
        Ok(())
    }

    fn persist_tree(
        &self,
        key: &str,
        books: &[Arc<Book>],
        at: Option<SystemTime>,
    ) -> StoreResult<()> {
        let rec = tree_record(books, at)?;
        self.store
            .put(
                Table::Mirror,
                &records::folders_key(key),
                &records::encode(&rec).map_err(from_state)?,
            )
            .map_err(from_state)
    }
}

fn new_book(store: &crate::state::SharedStore, acct: &str, rec: BookRec) -> Arc<Book> {
    Arc::new(Book {
        data: RwLock::new(BookData::new(store, acct, &rec.segment)),
        rec: RwLock::new(rec),
        flight: SingleFlight::default(),
        writes: Default::default(),
    })
}

fn tree_record(books: &[Arc<Book>], at: Option<SystemTime>) -> StoreResult<FolderTreeRec> {
    let mut recs = Vec::with_capacity(books.len());
    for b in books {
        recs.push(lock!(b.rec.read())?.clone());
    }
    Ok(FolderTreeRec {
        books: recs,
        refreshed_ms: at.map(records::to_ms),
    })
}

fn drop_book_rows(batch: &mut WriteBatch, acct: &str, segment: &str) {
    for (table, prefix) in records::book_prefixes(acct, segment) {
        batch.delete_prefix(table, prefix);
    }
    batch.delete(Table::Sync, records::book_state_key(acct, segment));
}

/// The `BookInfo` of a book as it stands.
pub(crate) fn book_info(book: &Book) -> StoreResult<BookInfo> {
    let r = lock!(book.rec.read())?;
    let rev = lock!(book.data.read())?.journal.rev;
    Ok(BookInfo {
        id: r.segment.clone(),
        displayname: r.display_name.clone(),
        description: r.description.clone(),
        sync_token: SyncToken::new(&r.instance, rev).to_uri(),
        ctag: ctag(&r.instance, rev),
        is_default: r.is_default,
    })
}

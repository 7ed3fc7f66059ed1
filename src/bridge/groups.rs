//! Categories served as group vCards, and group-card writes turned into category edits
//! (DESIGN.md "Groups"; clients.md §2.3, §3.4, §9; issue 7 item 5).
//!
//! Graph has no group object: a contact's `categories` are the truth. For users with
//! group cards on (`BridgeConfig::group_cards_for`), every category used in a book is
//! also served as a group card whose members are the contacts carrying it.
//!
//! - **Names and UIDs**: derived from the category name (`group-<hex>.vcf`, a name-based
//!   UUID), so they are stable without any state. A group a client created or renamed
//!   keeps the client's name and UID in a small record ([`GroupRec`], state store only);
//!   that record also keeps a group alive while it has no member (Apple creates a group
//!   empty, then adds members).
//! - **ETag**: a digest of the bytes served (name, UID, member UIDs), so any member change
//!   changes it; member changes are journaled by the mirror's plan (`PlanOptions::groups`).
//! - **PUT** of a group card (either dialect): the members' categories are edited in
//!   Graph, one PATCH per changed contact with `If-Match` (its changeKey); a new name
//!   renames the category on every member. Member UIDs not in the book are ignored.
//! - **DELETE**: the category is removed from every member; the contacts stay.
//!
//! Not atomic across members: a failure part-way (412, 503) answers the error; what was
//! done is in Graph and in the mirror, and the client's retry finishes the job.

use super::errors::from_graph;
use super::etag::{IfMatch, etag};
use super::mirror::{BookData, Change, PlanOptions};
use super::records::GroupRec;
use super::{AccountMirror, Book, Bridge, lock};
use crate::dav::store::{Card, CardMeta, Precondition, PutOutcome, StoreError, StoreResult};
use crate::graph::GraphError;
use crate::vcard::VCardVersion;
use crate::vcard::group::{GroupCard, parse_group_card, render_group_card};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

fn digest(domain: &[u8], text: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(domain)
        .chain_update(text.as_bytes())
        .finalize()
        .into()
}

/// The resource name of a category's group card when no client named it.
pub fn derived_name(category: &str) -> String {
    let d = digest(b"cardbridge group\0", category);
    let hex: String = d[..10].iter().map(|b| format!("{b:02x}")).collect();
    format!("group-{hex}.vcf")
}

/// The UID of a category's group card when no client gave one (name-based UUID).
pub fn derived_uid(category: &str) -> String {
    crate::vcard::uuid_from_digest(b"cardbridge group uid\0", category.as_bytes())
}

/// The name of the group card of `category`: the record's, or the derived one.
pub fn group_name(recs: &BTreeMap<String, GroupRec>, category: &str) -> String {
    recs.iter()
        .find(|(_, r)| r.category == category)
        .map(|(n, _)| n.clone())
        .unwrap_or_else(|| derived_name(category))
}

/// One group card as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub category: String,
    pub uid: String,
    /// Member UIDs, sorted.
    pub members: BTreeSet<String>,
    /// Graph ids of the members.
    pub member_ids: Vec<String>,
    pub last_modified: SystemTime,
}

impl Group {
    fn body(&self, version: VCardVersion) -> Bytes {
        Bytes::from(render_group_card(
            &self.category,
            &self.uid,
            self.members.iter().map(String::as_str),
            version,
        ))
    }

    pub fn card(&self, version: VCardVersion) -> Card {
        let body = self.body(version);
        Card {
            meta: CardMeta {
                name: self.name.clone(),
                etag: etag(&format!("group\0{}", self.category), version, &body),
                content_length: body.len() as u64,
                last_modified: self.last_modified,
                version,
            },
            body,
        }
    }

    pub fn meta(&self, version: VCardVersion) -> CardMeta {
        self.card(version).meta
    }

    /// ETags of both versions (an `If-Match` may name either).
    fn etags(&self) -> [String; 2] {
        [
            self.meta(VCardVersion::V3).etag,
            self.meta(VCardVersion::V4).etag,
        ]
    }
}

/// Every group card of a book, by name. A name a contact holds is never a group's.
pub fn groups_of(d: &BookData) -> BTreeMap<String, Group> {
    let mut by_cat: BTreeMap<&str, Group> = BTreeMap::new();
    for e in d.contacts.values() {
        for c in &e.categories {
            if c.trim().is_empty() {
                continue;
            }
            let g = by_cat.entry(c.as_str()).or_insert_with(|| Group {
                name: String::new(),
                category: c.clone(),
                uid: String::new(),
                members: BTreeSet::new(),
                member_ids: Vec::new(),
                last_modified: UNIX_EPOCH,
            });
            g.members.insert(e.uid());
            g.member_ids.push(e.id.to_string());
            g.last_modified = g.last_modified.max(e.last_modified());
        }
    }
    let mut out = BTreeMap::new();
    for (name, rec) in &d.group_recs {
        if d.names.contains_key(name) {
            continue;
        }
        let mut g = by_cat.remove(rec.category.as_str()).unwrap_or(Group {
            name: String::new(),
            category: rec.category.clone(),
            uid: String::new(),
            members: BTreeSet::new(),
            member_ids: Vec::new(),
            last_modified: UNIX_EPOCH,
        });
        g.name = name.clone();
        g.uid = rec.uid.clone();
        out.insert(name.clone(), g);
    }
    for (cat, mut g) in by_cat {
        let name = derived_name(cat);
        if d.names.contains_key(&name) || out.contains_key(&name) {
            continue;
        }
        g.name = name.clone();
        g.uid = derived_uid(cat);
        out.insert(name, g);
    }
    out
}

fn card_error(e: crate::vcard::VCardError) -> StoreError {
    StoreError::InvalidCard(e.to_string())
}

impl Bridge {
    /// PUT of a group card at `name` (either dialect).
    pub(crate) async fn put_group_impl(
        &self,
        user: &str,
        segment: &str,
        name: &str,
        body: &[u8],
        pre: Precondition,
    ) -> StoreResult<PutOutcome> {
        let card = parse_group_card(body).map_err(card_error)?;
        let (m, book) = self.fresh_book(user, segment).await?;
        let _guard = book.flight.exclusive().await;
        let (existing, other) = {
            let d = lock!(book.data.read())?;
            if d.by_name(name).is_some() {
                return Err(StoreError::Forbidden(
                    "a contact cannot be replaced by a group card".into(),
                ));
            }
            let groups = groups_of(&d);
            let other = groups
                .values()
                .find(|g| g.category == card.name && g.name != name)
                .map(|g| g.name.clone());
            (groups.get(name).cloned(), other)
        };
        let if_match = pre.if_match.as_deref().map(IfMatch::parse);
        match &existing {
            Some(g) => {
                if pre.if_none_match_any {
                    return Err(StoreError::PreconditionFailed);
                }
                if let Some(im) = &if_match
                    && !im.matches(g.etags().iter().map(String::as_str))
                {
                    return Err(StoreError::PreconditionFailed);
                }
            }
            None if if_match.is_some() => return Err(StoreError::PreconditionFailed),
            None => {}
        }
        // Remember the client's name and UID first, so that the member edits below
        // journal this name; the group that served the category elsewhere goes.
        let uid = card
            .uid
            .clone()
            .or_else(|| existing.as_ref().map(|g| g.uid.clone()))
            .unwrap_or_else(|| derived_uid(&card.name));
        let mut changes = Vec::new();
        if let Some(o) = &other {
            changes.push(Change::Group {
                name: o.clone(),
                rec: None,
            });
        }
        changes.push(Change::Group {
            name: name.to_owned(),
            rec: Some(GroupRec {
                category: card.name.clone(),
                uid,
            }),
        });
        self.commit_changes(&m, &book, changes, self.group_plan(), false)?;
        let old = existing.map(|g| g.category);
        self.apply_membership(&m, &book, old.as_deref(), Some(&card))
            .await?;
        let served = {
            let d = lock!(book.data.read())?;
            groups_of(&d)
                .get(name)
                .map(|g| g.card(super::writes::body_version(body)))
        };
        let etag = served
            .filter(|c| super::writes::same_card(body, &c.body))
            .map(|c| c.meta.etag);
        Ok(PutOutcome {
            created: old.is_none(),
            etag,
        })
    }

    /// DELETE of the group card `name`: the category leaves every member.
    pub(crate) async fn delete_group_impl(
        &self,
        user: &str,
        segment: &str,
        name: &str,
        pre: Precondition,
    ) -> StoreResult<()> {
        let (m, book) = self.fresh_book(user, segment).await?;
        let _guard = book.flight.exclusive().await;
        let g = groups_of(&*lock!(book.data.read())?)
            .remove(name)
            .ok_or(StoreError::NotFound)?;
        if let Some(im) = pre.if_match.as_deref().map(IfMatch::parse)
            && !im.matches(g.etags().iter().map(String::as_str))
        {
            return Err(StoreError::PreconditionFailed);
        }
        self.apply_membership(&m, &book, Some(&g.category), None)
            .await?;
        self.commit_changes(
            &m,
            &book,
            vec![Change::Group {
                name: name.to_owned(),
                rec: None,
            }],
            self.group_plan(),
            false,
        )?;
        Ok(())
    }

    fn group_plan(&self) -> PlanOptions {
        PlanOptions {
            journal: true,
            retention: self.config.journal_retention,
            groups: true,
            ..Default::default()
        }
    }

    /// Make the book's categories say what the group card says: `old` (the category the
    /// card had) leaves every contact, `card.name` is carried by exactly the card's
    /// members. `card: None` only removes `old`.
    async fn apply_membership(
        &self,
        m: &Arc<AccountMirror>,
        book: &Arc<Book>,
        old: Option<&str>,
        card: Option<&GroupCard>,
    ) -> StoreResult<()> {
        let wanted: BTreeSet<&str> = card
            .map(|c| c.members.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let new = card.map(|c| c.name.as_str());
        let edits: Vec<(Arc<super::mirror::Entry>, Vec<String>)> = {
            let d = lock!(book.data.read())?;
            let mut edits = Vec::new();
            for e in d.contacts.values() {
                let cats = &e.categories;
                let mut next: Vec<String> = cats
                    .iter()
                    .filter(|c| Some(c.as_str()) != old && Some(c.as_str()) != new)
                    .cloned()
                    .collect();
                if let Some(n) = new
                    && wanted.contains(e.uid().as_str())
                {
                    // Keep the position of a category the contact already had.
                    match cats.iter().position(|c| c == n) {
                        Some(i) => next.insert(i.min(next.len()), n.to_owned()),
                        None => next.push(n.to_owned()),
                    }
                }
                if *next != **cats {
                    edits.push((e.clone(), next));
                }
            }
            edits
        };
        for (e, categories) in edits {
            self.set_categories(m, book, &e, categories).await?;
        }
        Ok(())
    }

    /// PATCH one contact's categories (with If-Match) and commit Graph's answer.
    async fn set_categories(
        &self,
        m: &Arc<AccountMirror>,
        book: &Arc<Book>,
        e: &super::mirror::Entry,
        categories: Vec<String>,
    ) -> StoreResult<()> {
        let acct = &m.account;
        let old = e.rec().map_err(super::errors::from_state)?;
        let mut sent = old.contact.clone();
        sent.categories = categories;
        // Extended properties stay as they are in Graph (not sent, not changed).
        sent.single_value_extended_properties.clear();
        let id = e.id.to_string();
        let if_match = format!("W/\"{}\"", e.change_key());
        match acct
            .client
            .update_contact(&acct.mailbox, &id, &sent, Some(&if_match))
            .await
        {
            Ok(mut answer) => {
                if answer.single_value_extended_properties.is_empty() {
                    answer.single_value_extended_properties =
                        old.contact.single_value_extended_properties.clone();
                }
                // The photo did not change: keep it at the new changeKey.
                let mut rec = old;
                rec.contact = answer;
                if rec.photo_ck.is_some() {
                    rec.photo_ck = rec.contact.change_key.clone();
                }
                self.commit_changes(
                    m,
                    book,
                    vec![Change::Upsert(Box::new(rec))],
                    self.group_plan(),
                    false,
                )?;
                Ok(())
            }
            Err(GraphError::NotFound { .. }) => {
                // Deleted in Outlook meanwhile: nothing to edit.
                self.commit_changes(m, book, vec![Change::Remove(id)], self.group_plan(), false)?;
                Ok(())
            }
            Err(err) => {
                if err == GraphError::PreconditionFailed
                    && let Ok(mut d) = book.data.write()
                {
                    d.refreshed = None;
                }
                let err = from_graph(err);
                if matches!(
                    err,
                    StoreError::Unavailable { .. } | StoreError::SignInRequired
                ) {
                    m.record_error(&err);
                }
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_and_uids_are_stable_and_distinct() {
        assert_eq!(derived_name("Friends"), derived_name("Friends"));
        assert_ne!(derived_name("Friends"), derived_name("friends"));
        assert!(derived_name("Friends").starts_with("group-"));
        assert!(super::super::hrefs::valid_name(&derived_name("A/B")));
        let u = derived_uid("Friends");
        assert_eq!(u.len(), 36);
        assert_ne!(u, derived_uid("Family"));
        // Served to clients and kept by them: the value must never change (this is
        // SHA-256("cardbridge group uid\\0Friends") with the version-8 bits).
        assert_eq!(u, "760b4990-bc42-8a7b-a8ab-86e6487ac1c7");
    }

    #[test]
    fn a_record_names_its_category_and_hides_the_derived_name() {
        let mut recs = BTreeMap::new();
        assert_eq!(group_name(&recs, "Golf"), derived_name("Golf"));
        recs.insert(
            "ABC.vcf".to_owned(),
            GroupRec {
                category: "Golf".into(),
                uid: "ABC".into(),
            },
        );
        assert_eq!(group_name(&recs, "Golf"), "ABC.vcf");
        let mut d = BookData {
            group_recs: recs,
            ..Default::default()
        };
        let gs = groups_of(&d);
        assert_eq!(gs.len(), 1, "an empty recorded group is served");
        assert!(gs["ABC.vcf"].members.is_empty());
        d.names.insert("ABC.vcf".into(), "id".into());
        assert!(groups_of(&d).is_empty(), "a contact's name wins");
    }
}

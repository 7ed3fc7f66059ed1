//! The Microsoft Graph contacts client (reference/graph.md §13.2).
//!
//! One [`GraphClient`] per Graph root + identity; cheap to clone. Every method is one
//! Graph operation from §3, through the transport (tokens, `Prefer:
//! IdType="ImmutableId"`, per-mailbox concurrency of 4, Retry-After, 401 refresh, typed
//! errors: see `transport.rs`). Paged reads follow `@odata.nextLink` verbatim (§4.1) and
//! refuse links that leave the configured Graph root, so a token is never sent elsewhere.
//!
//! Choices worth knowing:
//! - The default folder is read through the well-known name `contactFolders/contacts`
//!   and, where a Graph version refuses that, derived from `parentFolderId` (§2.6); it is
//!   cached per mailbox (it never changes).
//! - Folders are enumerated by `contactFolders` + `childFolders` recursion, parents first
//!   (§2.6, §13.2 point 3).
//! - Delta rounds dedupe replays: an id appears once, in its final state (§4.8).
//! - Creates send no read-only fields and are never resent once their outcome is unknown
//!   ([`GraphError::Transport`]); the extended properties sent are copied onto the
//!   returned contact because Graph does not echo them (§4.3, §5.1). Updates do the same.
//! - `If-Match` is sent as given when it already looks like an entity tag (`W/"…"`,
//!   `"…"`, `*`), otherwise as `W/"changeKey"` (§2.5, §4.9).
//! - A DELETE repeated after an ambiguous failure reads 404 as success.

use super::batch::{self, MAX_BATCH};
use super::error::GraphError;
use super::model::{Contact, ContactFolder, Photo};
use super::paths;
use super::tokens::TokenSource;
use super::transport::{Body, ClientStats, GraphClientOptions, Request, Response, Transport};
use dashmap::DashMap;
use futures_util::{StreamExt, TryStreamExt, stream};
use http::Method;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Whose mailbox a call addresses: `/me` (delegated) or `/users/{id}` (app-only or shared).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mailbox {
    Me,
    User(String),
}

/// One finished delta round for a folder (§4.8).
#[derive(Debug, Clone, Default)]
pub struct DeltaRound {
    /// Created or updated contacts (full objects as selected), in the order Graph sent them.
    pub upserts: Vec<Contact>,
    /// Ids of removed contacts (tombstones).
    pub removed: Vec<String>,
    /// The final `@odata.deltaLink`, to persist for the next round.
    pub delta_link: String,
}

/// The signed-in user or the addressed mailbox's owner (`GET /me`, `/users/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
}

/// A collection page (§1.3, §4.1, §4.8).
#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink", default)]
    delta_link: Option<String>,
}

/// `$top` for list pages (Graph's maximum, §4.1).
const LIST_PAGE: u32 = 1000;
/// `$top` for folder lists.
const FOLDER_PAGE: u32 = 100;
/// Deepest folder nesting followed (guards against a cyclic answer).
const MAX_FOLDER_DEPTH: usize = 64;

struct Inner {
    transport: Transport,
    /// `{root}/v1.0`
    base: String,
    base_url: url::Url,
    default_folders: DashMap<Mailbox, ContactFolder>,
}

/// The Graph client. Cheap to clone; one per Graph root + identity.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("base", &self.inner.base)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    /// Build a client. Needs the rustls crypto provider installed (main and tests do).
    pub fn new(
        options: GraphClientOptions,
        tokens: Arc<dyn TokenSource>,
    ) -> Result<GraphClient, GraphError> {
        let base = format!("{}/v1.0", options.graph_root.trim_end_matches('/'));
        let base_url = url::Url::parse(&base)
            .map_err(|e| GraphError::Decode(format!("graph root {base:?} is not a URL: {e}")))?;
        let transport = Transport::new(options, tokens)?;
        Ok(GraphClient {
            inner: Arc::new(Inner {
                transport,
                base,
                base_url,
                default_folders: DashMap::new(),
            }),
        })
    }

    /// Whether `other` is this client (a clone of it), sharing its counters.
    pub fn same_client(&self, other: &GraphClient) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Request counters since the client was built.
    pub fn stats(&self) -> ClientStats {
        self.inner.transport.counters.snapshot()
    }

    /// The versioned Graph root this client talks to (`…/v1.0`).
    pub fn graph_url(&self) -> &str {
        &self.inner.base
    }

    // ---------- plumbing ----------

    fn url(&self, mb: &Mailbox, rest: &str) -> String {
        if rest.is_empty() {
            format!("{}/{}", self.inner.base, paths::mailbox(mb))
        } else {
            format!("{}/{}/{rest}", self.inner.base, paths::mailbox(mb))
        }
    }

    fn request(&self, method: Method, mb: &Mailbox, url: String) -> Request {
        Request::new(method, url, paths::mailbox(mb))
    }

    async fn send(&self, req: Request) -> Result<Response, GraphError> {
        self.inner.transport.send(&req).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        mb: &Mailbox,
        url: String,
    ) -> Result<T, GraphError> {
        self.send(self.request(Method::GET, mb, url))
            .await?
            .success()?
            .json()
    }

    /// A next/delta link is followed only when it stays under our Graph root.
    fn check_link(&self, link: &str) -> Result<String, GraphError> {
        let u = url::Url::parse(link)
            .map_err(|e| GraphError::Decode(format!("link is not a URL: {e}")))?;
        let b = &self.inner.base_url;
        if u.scheme() == b.scheme()
            && u.host_str() == b.host_str()
            && u.port_or_known_default() == b.port_or_known_default()
        {
            Ok(link.to_owned())
        } else {
            Err(GraphError::Decode(format!(
                "link leaves the configured Graph root ({})",
                u.origin().ascii_serialization()
            )))
        }
    }

    /// Every item of a paged collection.
    async fn all_pages<T: serde::de::DeserializeOwned>(
        &self,
        mb: &Mailbox,
        first: String,
    ) -> Result<Vec<T>, GraphError> {
        let mut out = Vec::new();
        let mut url = first;
        loop {
            let page: Page<T> = self.get_json(mb, url).await?;
            out.extend(page.value);
            match page.next_link {
                Some(next) => url = self.check_link(&next)?,
                None => return Ok(out),
            }
        }
    }

    // ---------- profile and folders ----------

    /// The mailbox owner's profile (display name, UPN): `GET /me` or `/users/{id}`.
    pub async fn user_profile(&self, mb: &Mailbox) -> Result<UserProfile, GraphError> {
        let url = paths::with_query(
            self.url(mb, ""),
            &[("$select", "id,displayName,userPrincipalName,mail".into())],
        );
        self.get_json(mb, url).await
    }

    /// The default Contacts folder (its `id` and localized `displayName`).
    pub async fn default_folder(&self, mb: &Mailbox) -> Result<ContactFolder, GraphError> {
        if let Some(f) = self.inner.default_folders.get(mb) {
            return Ok(f.clone());
        }
        let folder = match self
            .get_json::<ContactFolder>(mb, self.url(mb, "contactFolders/contacts"))
            .await
        {
            Ok(f) if f.id.is_some() => f,
            Ok(_) | Err(GraphError::NotFound { .. }) | Err(GraphError::BadRequest { .. }) => {
                self.derive_default_folder(mb).await?
            }
            Err(e) => return Err(e),
        };
        self.inner
            .default_folders
            .insert(mb.clone(), folder.clone());
        Ok(folder)
    }

    /// The default folder's id is the `parentFolderId` of its contacts and of top-level
    /// folders (§2.6).
    async fn derive_default_folder(&self, mb: &Mailbox) -> Result<ContactFolder, GraphError> {
        let probes = [
            paths::with_query(
                self.url(mb, "contacts"),
                &[("$top", "1".into()), ("$select", "parentFolderId".into())],
            ),
            paths::with_query(self.url(mb, "contactFolders"), &[("$top", "1".into())]),
        ];
        for probe in probes {
            let page: Page<serde_json::Value> = self.get_json(mb, probe).await?;
            let parent = page
                .value
                .first()
                .and_then(|v| v.get("parentFolderId"))
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            if let Some(id) = parent {
                let url = self.url(mb, &format!("contactFolders/{}", paths::segment(&id)));
                return match self.get_json::<ContactFolder>(mb, url).await {
                    Ok(f) => Ok(f),
                    Err(GraphError::NotFound { .. }) | Err(GraphError::BadRequest { .. }) => {
                        Ok(ContactFolder {
                            id: Some(id),
                            display_name: Some("Contacts".into()),
                            ..Default::default()
                        })
                    }
                    Err(e) => Err(e),
                };
            }
        }
        Err(GraphError::NotFound {
            code: "DefaultFolderUnknown".into(),
            message: "the default Contacts folder could not be determined".into(),
        })
    }

    async fn child_folders(
        &self,
        mb: &Mailbox,
        parent: Option<&str>,
    ) -> Result<Vec<ContactFolder>, GraphError> {
        let rest = match parent {
            None => "contactFolders".to_owned(),
            Some(p) => format!("contactFolders/{}/childFolders", paths::segment(p)),
        };
        let url = paths::with_query(self.url(mb, &rest), &[("$top", FOLDER_PAGE.to_string())]);
        self.all_pages(mb, url).await
    }

    /// Every contact folder below the default one, recursively (childFolders), parents before children.
    pub async fn folder_tree(&self, mb: &Mailbox) -> Result<Vec<ContactFolder>, GraphError> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut level = self.child_folders(mb, None).await?;
        let mut depth = 0;
        while !level.is_empty() && depth < MAX_FOLDER_DEPTH {
            level.retain(|f| f.id.as_ref().is_some_and(|id| seen.insert(id.clone())));
            out.extend(level.iter().cloned());
            let ids: Vec<String> = level.iter().filter_map(|f| f.id.clone()).collect();
            let children: Vec<Vec<ContactFolder>> = stream::iter(ids)
                .map(|id| async move { self.child_folders(mb, Some(&id)).await })
                .buffered(self.inner.transport.opts.max_concurrency_per_mailbox.max(1))
                .try_collect()
                .await?;
            level = children.into_iter().flatten().collect();
            depth += 1;
        }
        Ok(out)
    }

    /// Create a folder under `parent_id` (`None`: under the default folder).
    pub async fn create_folder(
        &self,
        mb: &Mailbox,
        parent_id: Option<&str>,
        display_name: &str,
    ) -> Result<ContactFolder, GraphError> {
        let rest = match parent_id {
            None => "contactFolders".to_owned(),
            Some(p) => format!("contactFolders/{}/childFolders", paths::segment(p)),
        };
        let req = self
            .request(Method::POST, mb, self.url(mb, &rest))
            .json(&serde_json::json!({ "displayName": display_name }))?;
        self.send(req).await?.success()?.json()
    }

    /// Rename a folder.
    pub async fn rename_folder(
        &self,
        mb: &Mailbox,
        id: &str,
        display_name: &str,
    ) -> Result<ContactFolder, GraphError> {
        let url = self.url(mb, &format!("contactFolders/{}", paths::segment(id)));
        let req = self
            .request(Method::PATCH, mb, url)
            .json(&serde_json::json!({ "displayName": display_name }))?;
        self.send(req).await?.success()?.json()
    }

    /// Delete a folder and its contents.
    pub async fn delete_folder(&self, mb: &Mailbox, id: &str) -> Result<(), GraphError> {
        let url = self.url(mb, &format!("contactFolders/{}", paths::segment(id)));
        let resp = self.send(self.request(Method::DELETE, mb, url)).await?;
        deleted(resp)
    }

    // ---------- contacts ----------

    /// Run one delta round for a folder to completion. `delta_link: None` starts a fresh
    /// (initial) round. Delta pages carry no extended properties (Graph documents only `$select`).
    pub async fn contacts_delta(
        &self,
        mb: &Mailbox,
        folder_id: &str,
        delta_link: Option<&str>,
        page_size: u32,
    ) -> Result<DeltaRound, GraphError> {
        let mut url = match delta_link {
            Some(link) => self.check_link(link)?,
            None => self.url(
                mb,
                &format!(
                    "contactFolders/{}/contacts/delta",
                    paths::segment(folder_id)
                ),
            ),
        };
        let mut acc = DeltaAccumulator::default();
        loop {
            let mut req = self.request(Method::GET, mb, url);
            req.max_page_size = (page_size > 0).then_some(page_size);
            let page: Page<Contact> = self.send(req).await?.success()?.json()?;
            for c in page.value {
                acc.push(c);
            }
            if let Some(next) = page.next_link {
                url = self.check_link(&next)?;
            } else if let Some(delta) = page.delta_link {
                return Ok(acc.finish(delta));
            } else {
                return Err(GraphError::Decode(
                    "delta page has neither nextLink nor deltaLink".into(),
                ));
            }
        }
    }

    /// All contacts of a folder through the list endpoint (`$top` pages), with the given
    /// extended properties expanded.
    pub async fn list_contacts(
        &self,
        mb: &Mailbox,
        folder_id: &str,
        expand_ids: &[&str],
    ) -> Result<Vec<Contact>, GraphError> {
        let mut q = vec![("$top", LIST_PAGE.to_string())];
        if let Some(e) = paths::expand_extended(expand_ids) {
            q.push(("$expand", e));
        }
        let rest = format!("contactFolders/{}/contacts", paths::segment(folder_id));
        self.all_pages(mb, paths::with_query(self.url(mb, &rest), &q))
            .await
    }

    /// Read contacts by id with `$batch` (20 per batch, ≤ 4 in flight), extended properties expanded.
    /// Missing ids are absent from the result.
    pub async fn get_contacts(
        &self,
        mb: &Mailbox,
        ids: &[String],
        expand_ids: &[&str],
    ) -> Result<Vec<Contact>, GraphError> {
        let expand = paths::expand_extended(expand_ids);
        let relative: Vec<String> = ids
            .iter()
            .map(|id| {
                let path = format!("/{}/contacts/{}", paths::mailbox(mb), paths::segment(id));
                match &expand {
                    Some(e) => paths::with_query(path, &[("$expand", e.clone())]),
                    None => path,
                }
            })
            .collect();
        let batch_url = format!("{}/$batch", self.inner.base);
        let mailbox = paths::mailbox(mb);
        // Owned chunks: a closure over borrowed `&[String]` makes this future fail the
        // `Send` proof that `AddressBookStore` futures need (rust-lang/rust#64552).
        let owned: Vec<Vec<String>> = relative.chunks(MAX_BATCH).map(<[String]>::to_vec).collect();
        let chunks: Vec<Vec<Contact>> = stream::iter(owned)
            .map(|chunk: Vec<String>| {
                let batch_url = &batch_url;
                let mailbox = &mailbox;
                async move {
                    let answers =
                        batch::get_batch(&self.inner.transport, batch_url, mailbox, &chunk).await?;
                    let mut out = Vec::with_capacity(answers.len());
                    for a in answers {
                        match a.status {
                            200..=299 => {
                                let body = a.body.unwrap_or(serde_json::Value::Null);
                                out.push(serde_json::from_value::<Contact>(body).map_err(|e| {
                                    GraphError::Decode(format!("$batch contact: {e}"))
                                })?);
                            }
                            404 => {}
                            _ => return Err(a.error()),
                        }
                    }
                    Ok(out)
                }
            })
            .buffered(self.inner.transport.opts.max_concurrency_per_mailbox.max(1))
            .try_collect()
            .await?;
        Ok(chunks.into_iter().flatten().collect())
    }

    /// One contact with the given extended properties expanded.
    pub async fn get_contact(
        &self,
        mb: &Mailbox,
        id: &str,
        expand_ids: &[&str],
    ) -> Result<Contact, GraphError> {
        let mut url = self.url(mb, &format!("contacts/{}", paths::segment(id)));
        if let Some(e) = paths::expand_extended(expand_ids) {
            url = paths::with_query(url, &[("$expand", e)]);
        }
        self.get_json(mb, url).await
    }

    /// Create a contact in a folder (never retried blindly).
    pub async fn create_contact(
        &self,
        mb: &Mailbox,
        folder_id: &str,
        contact: &Contact,
    ) -> Result<Contact, GraphError> {
        let rest = format!("contactFolders/{}/contacts", paths::segment(folder_id));
        let req = self
            .request(Method::POST, mb, self.url(mb, &rest))
            .json(&write_body(contact)?)?;
        let mut created: Contact = self.send(req).await?.success()?.json()?;
        merge_sent_properties(&mut created, contact);
        Ok(created)
    }

    /// PATCH a contact; `if_match` is the `@odata.etag` (or changeKey) the write is based on.
    pub async fn update_contact(
        &self,
        mb: &Mailbox,
        id: &str,
        contact: &Contact,
        if_match: Option<&str>,
    ) -> Result<Contact, GraphError> {
        let url = self.url(mb, &format!("contacts/{}", paths::segment(id)));
        let mut req = self
            .request(Method::PATCH, mb, url)
            .json(&write_body(contact)?)?;
        req.if_match = if_match.map(entity_tag);
        let mut updated: Contact = self.send(req).await?.success()?.json()?;
        merge_sent_properties(&mut updated, contact);
        Ok(updated)
    }

    /// DELETE a contact, honouring `if_match`.
    pub async fn delete_contact(
        &self,
        mb: &Mailbox,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), GraphError> {
        let url = self.url(mb, &format!("contacts/{}", paths::segment(id)));
        let mut req = self.request(Method::DELETE, mb, url);
        req.if_match = if_match.map(entity_tag);
        let resp = self.send(req).await?;
        deleted(resp)
    }

    /// Find contacts in a folder whose extended property `prop_id` equals `value`.
    pub async fn find_by_extended_property(
        &self,
        mb: &Mailbox,
        folder_id: &str,
        prop_id: &str,
        value: &str,
        expand_ids: &[&str],
    ) -> Result<Vec<Contact>, GraphError> {
        let mut q = vec![
            ("$filter", paths::filter_extended(prop_id, value)),
            ("$top", LIST_PAGE.to_string()),
        ];
        if let Some(e) = paths::expand_extended(expand_ids) {
            q.push(("$expand", e));
        }
        let rest = format!("contactFolders/{}/contacts", paths::segment(folder_id));
        self.all_pages(mb, paths::with_query(self.url(mb, &rest), &q))
            .await
    }

    // ---------- photos ----------

    /// The contact's photo, or `None` when it has none (404).
    pub async fn get_photo(&self, mb: &Mailbox, id: &str) -> Result<Option<Photo>, GraphError> {
        let url = self.url(mb, &format!("contacts/{}/photo/$value", paths::segment(id)));
        let mut req = self.request(Method::GET, mb, url);
        req.accept = "image/*, */*";
        let resp = self.send(req).await?;
        if resp.status == http::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let resp = resp.success()?;
        let content_type = resp
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "image/jpeg".into());
        Ok(Some(Photo {
            content_type,
            bytes: resp.body,
        }))
    }

    /// Several contacts' photos with `$batch` (20 per batch, ≤ 4 in flight; graph.md §6:
    /// binary sub-response bodies are base64). One answer per id, in input order: `None`
    /// when the contact has no photo (404), an error for any other failed sub-request.
    pub async fn get_photos(
        &self,
        mb: &Mailbox,
        ids: &[String],
    ) -> Result<Vec<Result<Option<Photo>, GraphError>>, GraphError> {
        let relative: Vec<Vec<String>> = ids
            .iter()
            .map(|id| {
                format!(
                    "/{}/contacts/{}/photo/$value",
                    paths::mailbox(mb),
                    paths::segment(id)
                )
            })
            .collect::<Vec<_>>()
            .chunks(MAX_BATCH)
            .map(<[String]>::to_vec)
            .collect();
        let batch_url = format!("{}/$batch", self.inner.base);
        let mailbox = paths::mailbox(mb);
        let chunks: Vec<Vec<batch::ItemAnswer>> =
            stream::iter(relative)
                .map(|chunk: Vec<String>| {
                    let (batch_url, mailbox) = (&batch_url, &mailbox);
                    async move {
                        batch::get_batch(&self.inner.transport, batch_url, mailbox, &chunk).await
                    }
                })
                .buffered(self.inner.transport.opts.max_concurrency_per_mailbox.max(1))
                .try_collect()
                .await?;
        Ok(chunks
            .into_iter()
            .flatten()
            .map(batch::ItemAnswer::into_photo)
            .collect())
    }

    /// Set the contact's photo.
    pub async fn put_photo(&self, mb: &Mailbox, id: &str, photo: &Photo) -> Result<(), GraphError> {
        let url = self.url(mb, &format!("contacts/{}/photo/$value", paths::segment(id)));
        let mut req = self.request(Method::PUT, mb, url);
        req.body = Some(Body {
            content_type: photo.content_type.clone(),
            bytes: photo.bytes.clone(),
        });
        self.send(req).await?.success()?;
        Ok(())
    }
}

/// 2xx, or 404 on a repeat after an ambiguous attempt, is a successful delete.
fn deleted(resp: Response) -> Result<(), GraphError> {
    if resp.status.is_success() || (resp.status.as_u16() == 404 && resp.after_ambiguous) {
        Ok(())
    } else {
        Err(resp.error())
    }
}

/// `If-Match` value: entity tags as given, bare change keys as `W/"…"` (§2.5).
fn entity_tag(v: &str) -> String {
    let v = v.trim();
    if v == "*" || v.starts_with("W/\"") || v.starts_with('"') {
        v.to_owned()
    } else {
        format!("W/\"{v}\"")
    }
}

/// The POST / PATCH body: the contact without read-only fields or OData annotations.
fn write_body(c: &Contact) -> Result<serde_json::Value, GraphError> {
    let mut c = c.clone();
    c.odata_etag = None;
    c.id = None;
    c.created_date_time = None;
    c.last_modified_date_time = None;
    c.change_key = None;
    c.parent_folder_id = None;
    c.removed = None;
    c.extra.retain(|k, _| !k.starts_with('@'));
    serde_json::to_value(&c).map_err(|e| GraphError::Decode(format!("encoding the contact: {e}")))
}

/// Graph does not echo extended properties on POST / PATCH (§5.1); copy the ones sent.
fn merge_sent_properties(answer: &mut Contact, sent: &Contact) {
    for p in &sent.single_value_extended_properties {
        if !answer
            .single_value_extended_properties
            .iter()
            .any(|q| q.id == p.id)
        {
            answer.single_value_extended_properties.push(p.clone());
        }
    }
}

/// Collects a delta round; replays keep only an id's last state, in first-seen order.
#[derive(Default)]
struct DeltaAccumulator {
    upserts: Vec<Option<Contact>>,
    index: HashMap<String, usize>,
    removed: Vec<String>,
    removed_set: HashSet<String>,
}

impl DeltaAccumulator {
    fn push(&mut self, c: Contact) {
        let Some(id) = c.id.clone() else { return };
        if c.is_removed() {
            if let Some(i) = self.index.remove(&id) {
                self.upserts[i] = None;
            }
            if self.removed_set.insert(id.clone()) {
                self.removed.push(id);
            }
        } else {
            if self.removed_set.remove(&id) {
                self.removed.retain(|r| r != &id);
            }
            match self.index.get(&id) {
                Some(&i) => self.upserts[i] = Some(c),
                None => {
                    self.index.insert(id, self.upserts.len());
                    self.upserts.push(Some(c));
                }
            }
        }
    }

    fn finish(self, delta_link: String) -> DeltaRound {
        DeltaRound {
            upserts: self.upserts.into_iter().flatten().collect(),
            removed: self.removed,
            delta_link,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::model::SingleValueExtendedProperty;

    fn c(id: &str, removed: bool, name: &str) -> Contact {
        let mut c = Contact {
            id: Some(id.into()),
            display_name: Some(name.into()),
            ..Default::default()
        };
        if removed {
            c.removed = Some(crate::graph::model::Removed {
                reason: Some("deleted".into()),
            });
        }
        c
    }

    #[test]
    fn delta_replays_collapse_to_the_final_state() {
        let mut acc = DeltaAccumulator::default();
        acc.push(c("a", false, "A1"));
        acc.push(c("b", false, "B"));
        acc.push(c("a", false, "A2"));
        acc.push(c("b", true, ""));
        acc.push(c("x", true, ""));
        acc.push(c("x", false, "X back"));
        let r = acc.finish("link".into());
        let names: Vec<_> = r
            .upserts
            .iter()
            .map(|c| c.display_name.clone().unwrap())
            .collect();
        assert_eq!(names, ["A2", "X back"]);
        assert_eq!(r.removed, ["b"]);
        assert_eq!(r.delta_link, "link");
    }

    #[test]
    fn entity_tags_are_wrapped_only_when_bare() {
        assert_eq!(entity_tag("EQAAAB+/="), "W/\"EQAAAB+/=\"");
        assert_eq!(entity_tag("W/\"EQ\""), "W/\"EQ\"");
        assert_eq!(entity_tag("\"EQ\""), "\"EQ\"");
        assert_eq!(entity_tag("*"), "*");
    }

    #[test]
    fn write_body_strips_read_only_fields_and_annotations() {
        let mut contact = c("id1", false, "N");
        contact.change_key = Some("ck".into());
        contact.odata_etag = Some("W/\"ck\"".into());
        contact
            .extra
            .insert("@odata.context".into(), serde_json::json!("x"));
        contact
            .extra
            .insert("primaryEmailAddress".into(), serde_json::json!({}));
        let v = write_body(&contact).unwrap();
        assert!(v.get("id").is_none());
        assert!(v.get("changeKey").is_none());
        assert!(v.get("@odata.etag").is_none());
        assert!(v.get("@odata.context").is_none());
        assert!(v.get("primaryEmailAddress").is_some());
        assert_eq!(v["displayName"], "N");
    }

    #[test]
    fn sent_extended_properties_are_kept_on_the_answer() {
        let mut sent = Contact::default();
        sent.single_value_extended_properties
            .push(SingleValueExtendedProperty {
                id: "String {g} Name uid".into(),
                value: Some("u1".into()),
            });
        let mut answer = c("id", false, "x");
        merge_sent_properties(&mut answer, &sent);
        assert_eq!(answer.extended_property("String {g} Name uid"), Some("u1"));
    }
}

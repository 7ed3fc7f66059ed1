//! The Microsoft Graph contacts client (reference/graph.md §13.2).
//!
//! STUB: signatures agreed between `graph` and `bridge`; the graph work replaces the
//! bodies. Keep the signatures stable (add methods freely).

use super::error::GraphError;
use super::model::{Contact, ContactFolder, Photo};

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

/// The Graph client. Cheap to clone; one per Graph root + identity.
#[derive(Clone)]
pub struct GraphClient {
    _private: (),
}

impl GraphClient {
    /// The default Contacts folder (its `id` and localized `displayName`).
    pub async fn default_folder(&self, _mb: &Mailbox) -> Result<ContactFolder, GraphError> {
        todo!()
    }
    /// Every contact folder below the default one, recursively (childFolders), parents before children.
    pub async fn folder_tree(&self, _mb: &Mailbox) -> Result<Vec<ContactFolder>, GraphError> {
        todo!()
    }
    /// Run one delta round for a folder to completion. `delta_link: None` starts a fresh
    /// (initial) round. Delta pages carry no extended properties (Graph documents only `$select`).
    pub async fn contacts_delta(
        &self,
        _mb: &Mailbox,
        _folder_id: &str,
        _delta_link: Option<&str>,
        _page_size: u32,
    ) -> Result<DeltaRound, GraphError> {
        todo!()
    }
    /// All contacts of a folder through the list endpoint (`$top` pages), with the given
    /// extended properties expanded.
    pub async fn list_contacts(
        &self,
        _mb: &Mailbox,
        _folder_id: &str,
        _expand_ids: &[&str],
    ) -> Result<Vec<Contact>, GraphError> {
        todo!()
    }
    /// Read contacts by id with `$batch` (20 per batch, ≤ 4 in flight), extended properties expanded.
    /// Missing ids are absent from the result.
    pub async fn get_contacts(
        &self,
        _mb: &Mailbox,
        _ids: &[String],
        _expand_ids: &[&str],
    ) -> Result<Vec<Contact>, GraphError> {
        todo!()
    }
    /// One contact with the given extended properties expanded.
    pub async fn get_contact(
        &self,
        _mb: &Mailbox,
        _id: &str,
        _expand_ids: &[&str],
    ) -> Result<Contact, GraphError> {
        todo!()
    }
    /// Create a contact in a folder (never retried blindly).
    pub async fn create_contact(
        &self,
        _mb: &Mailbox,
        _folder_id: &str,
        _contact: &Contact,
    ) -> Result<Contact, GraphError> {
        todo!()
    }
    /// PATCH a contact; `if_match` is the `@odata.etag` (or changeKey) the write is based on.
    pub async fn update_contact(
        &self,
        _mb: &Mailbox,
        _id: &str,
        _contact: &Contact,
        _if_match: Option<&str>,
    ) -> Result<Contact, GraphError> {
        todo!()
    }
    /// DELETE a contact, honouring `if_match`.
    pub async fn delete_contact(
        &self,
        _mb: &Mailbox,
        _id: &str,
        _if_match: Option<&str>,
    ) -> Result<(), GraphError> {
        todo!()
    }
    /// Find contacts in a folder whose extended property `prop_id` equals `value`.
    pub async fn find_by_extended_property(
        &self,
        _mb: &Mailbox,
        _folder_id: &str,
        _prop_id: &str,
        _value: &str,
        _expand_ids: &[&str],
    ) -> Result<Vec<Contact>, GraphError> {
        todo!()
    }
    /// The contact's photo, or `None` when it has none (404).
    pub async fn get_photo(&self, _mb: &Mailbox, _id: &str) -> Result<Option<Photo>, GraphError> {
        todo!()
    }
    /// Set the contact's photo.
    pub async fn put_photo(
        &self,
        _mb: &Mailbox,
        _id: &str,
        _photo: &Photo,
    ) -> Result<(), GraphError> {
        todo!()
    }
    /// Create a folder under `parent_id` (`None`: under the default folder).
    pub async fn create_folder(
        &self,
        _mb: &Mailbox,
        _parent_id: Option<&str>,
        _display_name: &str,
    ) -> Result<ContactFolder, GraphError> {
        todo!()
    }
    /// Rename a folder.
    pub async fn rename_folder(
        &self,
        _mb: &Mailbox,
        _id: &str,
        _display_name: &str,
    ) -> Result<ContactFolder, GraphError> {
        todo!()
    }
    /// Delete a folder and its contents.
    pub async fn delete_folder(&self, _mb: &Mailbox, _id: &str) -> Result<(), GraphError> {
        todo!()
    }
}

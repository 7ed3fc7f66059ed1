//! Control operations shared by the Rust handle and the admin HTTP API.
//!
//! "Edits made in Outlook" (reference/graph.md §13.1 point 7) go through the same store
//! as Graph writes, so they change the changeKey and show up in delta, but they never
//! touch extended properties (the bridge's stash), as the Outlook UI would not.

use super::delta;
use super::errors::{GraphErr, GraphResult};
use super::props::WriteMode;
use super::seed;
use super::server::Shared;
use super::world::RenderOpts;
use crate::graph::model::ContactFolder;
use serde_json::Value;

const OUTLOOK: WriteMode = WriteMode {
    create: false,
    allow_extended: false,
};

impl Shared {
    fn with_mailbox<T>(
        &self,
        user: &str,
        f: impl FnOnce(&mut super::world::Mailbox, &super::world::Settings) -> GraphResult<T>,
    ) -> GraphResult<T> {
        let mut world = self.world();
        let settings = world.settings.clone();
        let mb = world
            .mailbox_mut(user)
            .ok_or_else(|| GraphErr::invalid_user(user))?;
        f(mb, &settings)
    }

    pub fn op_add_user(&self, upn: &str) -> String {
        let display = upn.split('@').next().unwrap_or(upn).to_owned();
        self.world().add_user(upn, &display)
    }

    pub fn op_mint_token(&self, user: &str) -> GraphResult<String> {
        let id = self
            .world()
            .resolve_user(user)
            .ok_or_else(|| GraphErr::invalid_user(user))?;
        Ok(self.oauth.mint_access(Some(&id), &self.client_id))
    }

    pub fn op_seed_sample(&self, user: &str, n: usize, rng_seed: u64) -> GraphResult<usize> {
        self.with_mailbox(user, |mb, _| Ok(seed::seed_sample(mb, n, rng_seed)))
    }

    pub fn op_seed_json(&self, json: &str) -> anyhow::Result<()> {
        seed::seed_json(&mut self.world(), json)
    }

    pub fn op_default_folder_id(&self, user: &str) -> GraphResult<String> {
        self.with_mailbox(user, |mb, _| Ok(mb.folder_id(mb.default_folder).to_owned()))
    }

    /// Every folder: the default one first, then the tree in creation order.
    pub fn op_folders(&self, user: &str) -> GraphResult<Vec<ContactFolder>> {
        self.with_mailbox(user, |mb, _| {
            Ok(mb
                .folders
                .values()
                .map(|f| {
                    let m = mb.render_folder(f);
                    ContactFolder {
                        id: Some(f.id.clone()),
                        parent_folder_id: m
                            .get("parentFolderId")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        display_name: Some(f.display_name.clone()),
                        removed: None,
                    }
                })
                .collect())
        })
    }

    pub fn op_create_folder(
        &self,
        user: &str,
        parent: Option<&str>,
        name: &str,
    ) -> GraphResult<String> {
        self.with_mailbox(user, |mb, _| {
            let p = match parent {
                None => mb.default_folder,
                Some(p) => mb.folder_key(p).ok_or_else(GraphErr::not_found)?,
            };
            let k = mb.create_folder(p, name)?;
            Ok(mb.folder_id(k).to_owned())
        })
    }

    /// Create as Outlook would (extended properties allowed, e.g. to fake an old stash).
    pub fn op_outlook_create(
        &self,
        user: &str,
        folder: Option<&str>,
        contact: &Value,
    ) -> GraphResult<String> {
        self.with_mailbox(user, |mb, _| {
            let f = match folder {
                None => mb.default_folder,
                Some(f) => mb.folder_key(f).ok_or_else(GraphErr::not_found)?,
            };
            let k = mb.create_contact(
                f,
                contact,
                WriteMode {
                    create: true,
                    allow_extended: true,
                },
            )?;
            Ok(mb.contacts[&k].immutable_id.clone())
        })
    }

    pub fn op_outlook_edit(&self, user: &str, id: &str, patch: &Value) -> GraphResult<()> {
        self.with_mailbox(user, |mb, _| {
            let k = mb.contact_key(id).ok_or_else(GraphErr::not_found)?;
            mb.update_contact(k, patch, OUTLOOK)
        })
    }

    /// Set a contact's picture as Outlook would (new changeKey, has-picture flag set).
    pub fn op_outlook_set_photo(
        &self,
        user: &str,
        id: &str,
        content_type: &str,
        bytes: bytes::Bytes,
    ) -> GraphResult<()> {
        self.with_mailbox(user, |mb, _| {
            let k = mb.contact_key(id).ok_or_else(GraphErr::not_found)?;
            mb.set_photo(
                k,
                super::world::StoredPhoto {
                    content_type: content_type.to_owned(),
                    bytes,
                },
                true,
            )
        })
    }

    pub fn op_outlook_delete(&self, user: &str, id: &str) -> GraphResult<()> {
        self.with_mailbox(user, |mb, _| {
            let k = mb.contact_key(id).ok_or_else(GraphErr::not_found)?;
            mb.delete_contact(k);
            Ok(())
        })
    }

    /// Move a contact (returns its new default id).
    pub fn op_move(&self, user: &str, id: &str, to: &str) -> GraphResult<String> {
        self.with_mailbox(user, |mb, _| {
            let k = mb.contact_key(id).ok_or_else(GraphErr::not_found)?;
            let f = mb.folder_key(to).ok_or_else(GraphErr::not_found)?;
            mb.move_contact(k, f)?;
            Ok(mb.contacts[&k].default_id.clone())
        })
    }

    /// The contact as Graph returns it with immutable ids and every extended property.
    pub fn op_contact(&self, user: &str, id: &str) -> GraphResult<Value> {
        self.with_mailbox(user, |mb, settings| {
            let k = mb.contact_key(id).ok_or_else(GraphErr::not_found)?;
            let c = &mb.contacts[&k];
            let opts = RenderOpts {
                immutable: true,
                expand_extended: Some(c.ext.keys().cloned().collect()),
                schema_2026: settings.schema_2026,
                ..RenderOpts::default()
            };
            Ok(Value::Object(mb.render_contact(c, &opts)))
        })
    }

    /// Every contact of the mailbox as `op_contact` renders it (in no particular order).
    pub fn op_all_contacts(&self, user: &str) -> GraphResult<Vec<Value>> {
        self.with_mailbox(user, |mb, settings| {
            Ok(mb
                .contacts
                .values()
                .map(|c| {
                    let opts = RenderOpts {
                        immutable: true,
                        expand_extended: Some(c.ext.keys().cloned().collect()),
                        schema_2026: settings.schema_2026,
                        ..RenderOpts::default()
                    };
                    Value::Object(mb.render_contact(c, &opts))
                })
                .collect())
        })
    }

    pub fn op_contact_count(&self, user: &str) -> GraphResult<usize> {
        self.with_mailbox(user, |mb, _| Ok(mb.contacts.len()))
    }

    /// A contact's stored photo (media type, bytes), if any.
    pub fn op_photo(&self, user: &str, id: &str) -> GraphResult<Option<(String, Vec<u8>)>> {
        self.with_mailbox(user, |mb, _| {
            let k = mb.contact_key(id).ok_or_else(GraphErr::not_found)?;
            Ok(mb.contacts[&k]
                .photo
                .as_ref()
                .map(|p| (p.content_type.clone(), p.bytes.to_vec())))
        })
    }

    pub fn op_contacts_with_photo(&self, user: &str) -> GraphResult<usize> {
        self.with_mailbox(user, |mb, _| {
            Ok(mb.contacts.values().filter(|c| c.photo.is_some()).count())
        })
    }

    pub fn op_expire_delta(&self, user: &str) -> GraphResult<()> {
        self.with_mailbox(user, |mb, _| {
            delta::expire_all(mb);
            Ok(())
        })
    }

    pub fn op_revoke(&self, user: &str) -> GraphResult<()> {
        let id = self
            .world()
            .resolve_user(user)
            .ok_or_else(|| GraphErr::invalid_user(user))?;
        self.oauth.revoke(&id);
        Ok(())
    }

    pub fn op_approve_device(&self, user_code: &str, user: &str) -> bool {
        let Some(id) = self.world().resolve_user(user) else {
            return false;
        };
        self.oauth.approve_device(user_code, &id)
    }
}

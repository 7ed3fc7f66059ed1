//! Graph tokens at rest (DESIGN.md "Upstream auth"; reference/graph.md §11.4).
//!
//! One record per account name in [`Table::Accounts`] under `tokens/{account}`: the
//! refresh token (access tokens are short-lived and never written), when it was saved,
//! the scopes granted and who signed in. The state file is already owner-only (0600);
//! when `[state] encryption_key_file` is configured the record is also sealed with
//! ChaCha20-Poly1305 (random 96-bit nonce per write, the account name as associated
//! data so a record cannot be moved to another account).
//!
//! Record layout: `CBT1` + `P` + JSON (plain) or `CBT1` + `E` + nonce (12) + ciphertext.
//! A plain record is still readable after a key is configured (it is sealed on the
//! next save); a sealed record without the key is an error, never silently ignored.
//!
//! The key file holds 32 bytes: raw, 64 hex digits, or base64 (for example
//! `head -c 32 /dev/urandom > cardbridge.key`).

use super::oauth::TokenSet;
use super::tokens::TokenSink;
use crate::state::{SharedStore, Table};
use anyhow::{Context, anyhow, bail};
use base64::prelude::{BASE64_STANDARD, Engine};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

const MAGIC: &[u8; 4] = b"CBT1";
const PREFIX: &str = "tokens/";

/// What is kept for an account.
#[derive(Debug, Clone)]
pub struct StoredTokens {
    pub refresh_token: SecretString,
    /// Scopes the identity platform granted.
    pub scope: Option<String>,
    /// Who signed in (UPN or display name), for `check` and logs.
    pub user: Option<String>,
    pub saved_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    refresh_token: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    user: Option<String>,
    saved_at: chrono::DateTime<chrono::Utc>,
}

/// The 32-byte key that seals token records.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey([REDACTED])")
    }
}

impl TokenKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Read a key file (raw 32 bytes, 64 hex digits or base64).
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let data = std::fs::read(path)
            .with_context(|| format!("cannot read the encryption key file {}", path.display()))?;
        Self::parse(&data).with_context(|| format!("encryption key file {}", path.display()))
    }

    fn parse(data: &[u8]) -> anyhow::Result<Self> {
        if let Ok(raw) = <[u8; 32]>::try_from(data) {
            return Ok(Self(raw));
        }
        let text = std::str::from_utf8(data)
            .map_err(|_| anyhow!("must hold 32 bytes, 64 hex digits or base64"))?
            .trim();
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut out = [0u8; 32];
            for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
                let s = std::str::from_utf8(chunk)?;
                out[i] = u8::from_str_radix(s, 16)?;
            }
            return Ok(Self(out));
        }
        let decoded = BASE64_STANDARD
            .decode(text)
            .map_err(|_| anyhow!("must hold 32 bytes, 64 hex digits or base64"))?;
        <[u8; 32]>::try_from(decoded.as_slice())
            .map(Self)
            .map_err(|_| anyhow!("the key must be 32 bytes, found {}", decoded.len()))
    }
}

/// Saves, loads and deletes accounts' tokens in the state store.
#[derive(Clone)]
pub struct TokenStore {
    store: SharedStore,
    key: Option<TokenKey>,
}

impl TokenStore {
    pub fn new(store: SharedStore, key: Option<TokenKey>) -> Self {
        Self { store, key }
    }

    /// True when records are sealed.
    pub fn encrypted(&self) -> bool {
        self.key.is_some()
    }

    fn key_of(account: &str) -> Vec<u8> {
        format!("{PREFIX}{account}").into_bytes()
    }

    pub fn save(&self, account: &str, tokens: &StoredTokens) -> anyhow::Result<()> {
        let record = Record {
            refresh_token: tokens.refresh_token.expose_secret().to_owned(),
            scope: tokens.scope.clone(),
            user: tokens.user.clone(),
            saved_at: tokens.saved_at,
        };
        let json = serde_json::to_vec(&record)?;
        let mut value = MAGIC.to_vec();
        match &self.key {
            None => {
                value.push(b'P');
                value.extend_from_slice(&json);
            }
            Some(k) => {
                let cipher = ChaCha20Poly1305::new(&Key::from(k.0));
                let nonce_bytes: [u8; 12] = rand::random();
                let sealed = cipher
                    .encrypt(
                        &Nonce::from(nonce_bytes),
                        Payload {
                            msg: &json,
                            aad: account.as_bytes(),
                        },
                    )
                    .map_err(|_| anyhow!("sealing the token record failed"))?;
                value.push(b'E');
                value.extend_from_slice(&nonce_bytes);
                value.extend_from_slice(&sealed);
            }
        }
        self.store
            .put(Table::Accounts, &Self::key_of(account), &value)
            .context("writing the token record")?;
        Ok(())
    }

    pub fn load(&self, account: &str) -> anyhow::Result<Option<StoredTokens>> {
        let Some(value) = self
            .store
            .get(Table::Accounts, &Self::key_of(account))
            .context("reading the token record")?
        else {
            return Ok(None);
        };
        if value.len() < 5 || &value[..4] != MAGIC {
            bail!("token record of account {account:?} is not in a known format");
        }
        let json = match value[4] {
            b'P' => value[5..].to_vec(),
            b'E' => {
                let Some(k) = &self.key else {
                    bail!(
                        "token record of account {account:?} is encrypted; configure [state] encryption_key_file"
                    );
                };
                if value.len() < 5 + 12 + 16 {
                    bail!("token record of account {account:?} is truncated");
                }
                let nonce: [u8; 12] = value[5..17]
                    .try_into()
                    .map_err(|_| anyhow!("token record nonce"))?;
                ChaCha20Poly1305::new(&Key::from(k.0))
                    .decrypt(
                        &Nonce::from(nonce),
                        Payload {
                            msg: &value[17..],
                            aad: account.as_bytes(),
                        },
                    )
                    .map_err(|_| {
                        anyhow!("token record of account {account:?} does not open with the configured key")
                    })?
            }
            _ => bail!("token record of account {account:?} is not in a known format"),
        };
        let r: Record = serde_json::from_slice(&json)
            .with_context(|| format!("token record of account {account:?} is corrupt"))?;
        Ok(Some(StoredTokens {
            refresh_token: SecretString::from(r.refresh_token),
            scope: r.scope,
            user: r.user,
            saved_at: r.saved_at,
        }))
    }

    pub fn delete(&self, account: &str) -> anyhow::Result<()> {
        self.store
            .delete(Table::Accounts, &Self::key_of(account))
            .context("deleting the token record")?;
        Ok(())
    }

    /// Names of the accounts with stored tokens.
    pub fn accounts(&self) -> anyhow::Result<Vec<String>> {
        let rows = self
            .store
            .scan_prefix(Table::Accounts, PREFIX.as_bytes())
            .context("listing token records")?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, _)| {
                String::from_utf8(k)
                    .ok()
                    .and_then(|k| k.strip_prefix(PREFIX).map(str::to_owned))
            })
            .collect())
    }

    /// A sink that stores every rotated refresh token of `account`.
    pub fn sink(&self, account: &str) -> Arc<dyn TokenSink> {
        Arc::new(AccountSink {
            store: self.clone(),
            account: account.to_owned(),
        })
    }
}

struct AccountSink {
    store: TokenStore,
    account: String,
}

impl TokenSink for AccountSink {
    fn save(&self, tokens: &TokenSet) -> anyhow::Result<()> {
        let Some(refresh) = &tokens.refresh_token else {
            return Ok(());
        };
        let previous = self.store.load(&self.account).ok().flatten();
        self.store.save(
            &self.account,
            &StoredTokens {
                refresh_token: refresh.clone(),
                scope: tokens
                    .scope
                    .clone()
                    .or_else(|| previous.as_ref().and_then(|p| p.scope.clone())),
                user: previous.and_then(|p| p.user),
                saved_at: chrono::Utc::now(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryStore;

    fn tokens(rt: &str) -> StoredTokens {
        StoredTokens {
            refresh_token: SecretString::from(rt),
            scope: Some("Contacts.ReadWrite".into()),
            user: Some("adele@contoso.com".into()),
            saved_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn plain_round_trip_and_delete() {
        let store: SharedStore = Arc::new(MemoryStore::new());
        let ts = TokenStore::new(store, None);
        assert!(ts.load("a").unwrap().is_none());
        ts.save("a", &tokens("rt-1")).unwrap();
        let back = ts.load("a").unwrap().unwrap();
        assert_eq!(back.refresh_token.expose_secret(), "rt-1");
        assert_eq!(back.user.as_deref(), Some("adele@contoso.com"));
        assert_eq!(ts.accounts().unwrap(), ["a"]);
        ts.delete("a").unwrap();
        assert!(ts.load("a").unwrap().is_none());
    }

    #[test]
    fn sealed_records_hide_the_token_and_need_the_key() {
        let store: SharedStore = Arc::new(MemoryStore::new());
        let key = TokenKey::from_bytes([7; 32]);
        let ts = TokenStore::new(store.clone(), Some(key));
        ts.save("a", &tokens("very-secret-refresh")).unwrap();
        let raw = store.get(Table::Accounts, b"tokens/a").unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&raw).contains("very-secret-refresh"));
        assert_eq!(
            ts.load("a").unwrap().unwrap().refresh_token.expose_secret(),
            "very-secret-refresh"
        );
        assert!(TokenStore::new(store.clone(), None).load("a").is_err());
        let wrong = TokenStore::new(store.clone(), Some(TokenKey::from_bytes([8; 32])));
        assert!(wrong.load("a").is_err());
        // a record moved to another account does not open
        store.put(Table::Accounts, b"tokens/b", &raw).unwrap();
        assert!(ts.load("b").is_err());
    }

    #[test]
    fn plain_record_stays_readable_after_a_key_is_configured() {
        let store: SharedStore = Arc::new(MemoryStore::new());
        TokenStore::new(store.clone(), None)
            .save("a", &tokens("rt"))
            .unwrap();
        let sealed = TokenStore::new(store, Some(TokenKey::from_bytes([1; 32])));
        assert!(sealed.load("a").unwrap().is_some());
    }

    #[test]
    fn sink_keeps_the_user_and_stores_the_rotated_token() {
        let store: SharedStore = Arc::new(MemoryStore::new());
        let ts = TokenStore::new(store, None);
        ts.save("a", &tokens("old")).unwrap();
        ts.sink("a")
            .save(&TokenSet {
                access_token: SecretString::from("at"),
                refresh_token: Some(SecretString::from("new")),
                expires_at: chrono::Utc::now(),
                scope: None,
                identity: None,
            })
            .unwrap();
        let back = ts.load("a").unwrap().unwrap();
        assert_eq!(back.refresh_token.expose_secret(), "new");
        assert_eq!(back.user.as_deref(), Some("adele@contoso.com"));
        assert_eq!(back.scope.as_deref(), Some("Contacts.ReadWrite"));
    }

    #[test]
    fn key_files_accept_raw_hex_and_base64() {
        assert!(TokenKey::parse(&[3u8; 32]).is_ok());
        let hex = "00".repeat(32);
        assert!(TokenKey::parse(hex.as_bytes()).is_ok());
        let b64 = BASE64_STANDARD.encode([9u8; 32]);
        assert!(TokenKey::parse(format!("{b64}\n").as_bytes()).is_ok());
        assert!(TokenKey::parse(b"short").is_err());
    }
}

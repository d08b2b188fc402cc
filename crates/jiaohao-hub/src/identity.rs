//! How the hub knows a person without keeping their ID number: a keyed hash (HMAC-SHA256)
//! under a key that lives in a file of its own, outside the database and its backups. The hub
//! creates the file (mode 0600) on first start; a backup restored on another PC needs this
//! file too, or the people it knows (bookings, no-show bars) are strangers there.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hmac::{Hmac, KeyInit, Mac};
use jiaohao_core::{IdNumber, PersonKey};
use sha2::{Digest, Sha256};

/// The key's length in bytes (256 bits).
const KEY_BYTES: usize = 32;

/// The HMAC key that turns an ID number into a [`PersonKey`].
#[derive(Clone)]
pub struct IdentityKey([u8; KEY_BYTES]);

impl std::fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityKey(..)")
    }
}

impl IdentityKey {
    /// The key file's default place: `identity.key` beside the database.
    pub fn default_path(db: &Path) -> PathBuf {
        db.parent()
            .unwrap_or_else(|| Path::new("."))
            .join("identity.key")
    }

    /// Reads the key file, or creates it (mode 0600, 64 hex digits) if it does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<IdentityKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(text.trim())
                .with_context(|| format!("the identity key file {} is damaged", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let hex = jiaohao_signin::secret::random_hex(KEY_BYTES);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).with_context(|| {
                    format!("cannot create the identity key {}", path.display())
                })?;
                file.write_all(format!("{hex}\n").as_bytes())?;
                file.sync_all()?;
                tracing::info!(file = %path.display(), "created the identity key; keep it with the backups' restore instructions, never in them");
                Self::parse(&hex)
            }
            Err(error) => Err(error)
                .with_context(|| format!("cannot read the identity key {}", path.display())),
        }
    }

    fn parse(hex: &str) -> anyhow::Result<IdentityKey> {
        anyhow::ensure!(
            hex.len() == 2 * KEY_BYTES && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            "it must hold {} hex digits",
            2 * KEY_BYTES
        );
        let mut key = [0u8; KEY_BYTES];
        for (index, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * index..2 * index + 2], 16)?;
        }
        Ok(IdentityKey(key))
    }

    /// A fingerprint of the key (16 hex digits of a SHA-256 over a label and the key), for two
    /// hubs to tell whether they hold the same key without showing it.
    pub fn id(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(b"jiaohao identity key id\0");
        hash.update(self.0);
        to_hex(&hash.finalize()[..8])
    }

    /// The key a person is known by: HMAC-SHA256 of the ID number, as lower-case hex.
    pub fn person(&self, id: &IdNumber) -> PersonKey {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(id.as_str().as_bytes());
        let hex = to_hex(&mac.finalize().into_bytes());
        PersonKey::parse(&hex).expect("an HMAC-SHA256 in hex is a person key")
    }
}

impl IdentityKey {
    /// HMAC-SHA256 of `text` for `purpose` (a label kept apart from the person key's input),
    /// as lower-case hex: a value the hub can make again, which the database alone cannot.
    pub fn mac(&self, purpose: &str, text: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(text.as_bytes());
        to_hex(&mac.finalize().into_bytes())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a secret as hex (SMS codes and cancel tokens are kept so).
pub fn sha256_hex(text: &str) -> String {
    to_hex(&Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = IdentityKey::default_path(&dir.path().join("hub.db"));
        assert_eq!(path, dir.path().join("identity.key"));
        let key = IdentityKey::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = IdentityKey::load_or_create(&path).unwrap();
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(key.person(&id), again.person(&id));
        assert_eq!(key.person(&id).as_str().len(), 64);
        assert!(!format!("{key:?}").contains(&to_hex(&key.0)));
        // Another key knows the same person by another hash.
        let other = IdentityKey::load_or_create(&dir.path().join("other.key")).unwrap();
        assert_ne!(key.person(&id), other.person(&id));
        std::fs::write(&path, "not a key").unwrap();
        assert!(IdentityKey::load_or_create(&path).is_err());
    }
}

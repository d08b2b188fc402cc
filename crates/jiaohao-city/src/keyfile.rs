//! The city's key file: 32 random bytes (64 hex digits), mode 0600, at a path that is a
//! setting, never in PostgreSQL nor its backups. It seals the halls' ingest tokens
//! (XChaCha20-Poly1305, a random nonce per token, the hall's name as associated data so a
//! sealed token cannot be moved to another hall's row).

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::CityError;

const NONCE_LEN: usize = 24;

pub struct KeyFile {
    path: PathBuf,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn error(path: &Path, message: impl Into<String>) -> CityError {
    CityError::KeyFile {
        path: path.display().to_string(),
        message: message.into(),
    }
}

impl KeyFile {
    /// Opens the key file, or creates it (mode 0600) with a new random key if it does not
    /// exist. A key file that others may read is refused.
    pub fn open_or_create(path: &Path) -> Result<KeyFile, CityError> {
        if !path.exists() {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| error(path, e.to_string()))?;
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| error(path, format!("cannot create it: {e}")))?;
            file.write_all(format!("{hex}\n").as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| error(path, format!("cannot write it: {e}")))?;
        }
        KeyFile::open(path)
    }

    /// Opens an existing key file.
    pub fn open(path: &Path) -> Result<KeyFile, CityError> {
        let meta = std::fs::metadata(path).map_err(|e| error(path, e.to_string()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(error(
                path,
                "others may read it; chmod 600 it (it unlocks every hall's token)",
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| error(path, e.to_string()))?;
        let text = text.trim();
        if text.len() != 64 || !text.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(error(path, "it does not hold 64 hex digits"));
        }
        let key: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or(0))
            .collect();
        let cipher = XChaCha20Poly1305::new_from_slice(&key)
            .map_err(|_| error(path, "the key has the wrong length"))?;
        Ok(KeyFile {
            path: path.to_owned(),
            cipher,
        })
    }

    /// Seals a hall's token: nonce followed by the ciphertext.
    pub fn seal(&self, hall_name: &str, token: &str) -> Result<Vec<u8>, CityError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| error(&self.path, e.to_string()))?;
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: token.as_bytes(),
                    aad: hall_name.as_bytes(),
                },
            )
            .map_err(|_| error(&self.path, "sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    /// Opens a sealed token; fails if it was sealed with another key or for another hall.
    pub fn open_token(&self, hall_name: &str, sealed: &[u8]) -> Result<String, CityError> {
        if sealed.len() < NONCE_LEN {
            return Err(error(&self.path, "a sealed token is too short"));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at the nonce's length");
        let plain = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: hall_name.as_bytes(),
                },
            )
            .map_err(|_| {
                error(
                    &self.path,
                    format!("the token of hall {hall_name} was sealed with another key"),
                )
            })?;
        String::from_utf8(plain).map_err(|_| error(&self.path, "a token is not text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_seal_and_open_only_with_their_key_and_hall() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("city.key");
        let key = KeyFile::open_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let sealed = key.seal("清河县", "secret-token").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(key.open_token("清河县", &sealed).unwrap(), "secret-token");
        assert!(key.open_token("别的县", &sealed).is_err());
        let other = KeyFile::open_or_create(&dir.path().join("other.key")).unwrap();
        assert!(other.open_token("清河县", &sealed).is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(KeyFile::open(&path).is_err());
    }
}

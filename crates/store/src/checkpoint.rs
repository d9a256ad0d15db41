//! Signed audit checkpoints: the trail's head (sequence number and hash) anchored outside the
//! database.
//!
//! The head record inside the database detects deleting the newest entries only as long as
//! nobody rewinds it too; someone with write access to the file can do both. A checkpoint is the
//! head signed with the node's Ed25519 key, written where an auditor can copy it
//! (`DATA/checkpoints/`, `vigie audit checkpoint`) and published in the notifications and the
//! transparency report. `vigie audit verify --checkpoint FILE` then refuses a trail that no
//! longer holds that entry with that hash.
//!
//! The secret key is `DATA/audit-signing.key` (owner-only, created on first use); the public key
//! is `DATA/audit-signing.pub` and inside every checkpoint. An auditor pins the public key once
//! (`--public-key`), so a checkpoint signed by a key made up later is refused.

use crate::{AuditBreak, AuditSummary, Result, Store, StoreError};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use vigie_core::UnixMs;

pub const KEY_FILE: &str = "audit-signing.key";
pub const PUBLIC_KEY_FILE: &str = "audit-signing.pub";
pub const CHECKPOINT_DIR: &str = "checkpoints";
/// Format tag, also the first line of the signed message.
pub const FORMAT: &str = "vigie-audit-checkpoint/1";

/// The head of the trail at one moment, signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format: String,
    /// Entries in the trail (the sequence number of the newest one).
    pub seq: i64,
    /// Hash of entry `seq`.
    pub head_hash: String,
    pub at_ms: UnixMs,
    pub at: String,
    /// Hex Ed25519 public key that signed it.
    pub public_key: String,
    /// Hex Ed25519 signature of [`Checkpoint::message`].
    pub signature: String,
}

/// Why a checkpoint cannot be trusted or does not match the trail.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint {file}: {reason}")]
    Unreadable { file: String, reason: String },
    #[error("checkpoint signature is not valid: {0}")]
    BadSignature(String),
    #[error("checkpoint was signed by key {found}, not by the trusted key {trusted}")]
    UntrustedKey { found: String, trusted: String },
    #[error("chain truncated: checkpoint at seq {seq} hash {hash}, database head at seq {head_seq}")]
    Truncated { seq: i64, hash: String, head_seq: i64 },
    #[error("chain rewritten: checkpoint at seq {seq} hash {hash}, database entry {seq} has hash {found}")]
    Rewritten { seq: i64, hash: String, found: String },
    #[error(transparent)]
    Broken(#[from] AuditBreak),
}

impl Checkpoint {
    /// What is signed: the format tag and every field a verifier relies on, one per line.
    pub fn message(seq: i64, head_hash: &str, at_ms: UnixMs) -> String {
        format!("{FORMAT}\nseq={seq}\nhead_hash={head_hash}\nat_ms={at_ms}\n")
    }

    pub fn from_json(text: &str, file: &str) -> Result<Checkpoint, CheckpointError> {
        let cp: Checkpoint = serde_json::from_str(text)
            .map_err(|e| CheckpointError::Unreadable { file: file.into(), reason: format!("not a checkpoint: {e}") })?;
        if cp.format != FORMAT {
            return Err(CheckpointError::Unreadable {
                file: file.into(),
                reason: format!("format '{}' is not {FORMAT}", cp.format),
            });
        }
        Ok(cp)
    }

    pub fn read(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| CheckpointError::Unreadable { file: file.clone(), reason: e.to_string() })?;
        Checkpoint::from_json(&text, &file)
    }

    /// Checks the signature with the key the checkpoint names, and that key against `trusted`
    /// (hex) when given.
    pub fn verify_signature(&self, trusted: Option<&str>) -> Result<(), CheckpointError> {
        if let Some(t) = trusted {
            if !t.trim().eq_ignore_ascii_case(&self.public_key) {
                return Err(CheckpointError::UntrustedKey { found: self.public_key.clone(), trusted: t.trim().into() });
            }
        }
        let key_bytes: [u8; 32] = hex::decode(&self.public_key)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| CheckpointError::BadSignature("public_key is not 32 bytes of hex".into()))?;
        let key = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|e| CheckpointError::BadSignature(format!("public_key is not an Ed25519 key: {e}")))?;
        let sig_bytes: [u8; 64] = hex::decode(&self.signature)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| CheckpointError::BadSignature("signature is not 64 bytes of hex".into()))?;
        key.verify(Self::message(self.seq, &self.head_hash, self.at_ms).as_bytes(), &Signature::from_bytes(&sig_bytes))
            .map_err(|_| {
                CheckpointError::BadSignature(format!(
                    "it does not match seq {} hash {} under key {}",
                    self.seq, self.head_hash, self.public_key
                ))
            })
    }
}

/// The node's signing key.
pub struct NodeKey {
    key: SigningKey,
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeKey").field("public", &self.public_hex()).finish()
    }
}

impl NodeKey {
    /// Reads `DATA/audit-signing.key`, creating it (owner-only) and the public key file on first
    /// use.
    pub fn load_or_create(data: &Path) -> Result<NodeKey> {
        let path = data.join(KEY_FILE);
        let key = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes: [u8; 32] =
                    hex::decode(text.trim()).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| {
                        StoreError::Internal(format!("{}: not a 32-byte hex Ed25519 secret key", path.display()))
                    })?;
                SigningKey::from_bytes(&bytes)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                getrandom::getrandom(&mut secret)
                    .map_err(|e| StoreError::Internal(format!("no random source for the signing key: {e}")))?;
                let key = SigningKey::from_bytes(&secret);
                write_new(&path, format!("{}\n", hex::encode(secret)).as_bytes(), true)
                    .map_err(|e| StoreError::Internal(format!("cannot create {}: {e}", path.display())))?;
                key
            }
            Err(e) => return Err(StoreError::Internal(format!("cannot read {}: {e}", path.display()))),
        };
        let node = NodeKey { key };
        let public = data.join(PUBLIC_KEY_FILE);
        let text = format!("{}\n", node.public_hex());
        if std::fs::read_to_string(&public).ok().as_deref() != Some(text.as_str()) {
            crate::write_atomic(&public, text.as_bytes(), false)
                .map_err(|e| StoreError::Internal(format!("cannot write {}: {e}", public.display())))?;
        }
        Ok(node)
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    pub fn sign(&self, seq: i64, head_hash: &str, at_ms: UnixMs) -> Checkpoint {
        let sig = self.key.sign(Checkpoint::message(seq, head_hash, at_ms).as_bytes());
        Checkpoint {
            format: FORMAT.into(),
            seq,
            head_hash: head_hash.into(),
            at_ms,
            at: at_ms.rfc3339(),
            public_key: self.public_hex(),
            signature: hex::encode(sig.to_bytes()),
        }
    }
}

/// Creates `path` (failing if it exists), owner-only when `private`.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

impl Store {
    /// Signs the head of the trail as it is now. A trail that does not verify is not signed:
    /// a checkpoint vouches for everything before it.
    pub fn checkpoint(&self, key: &NodeKey) -> Result<Result<Checkpoint, AuditBreak>> {
        self.checkpoint_after(key, None)
    }

    /// As [`Store::checkpoint`], verifying only the entries after `previous` (a checkpoint this
    /// node made, whose entry must still be there unchanged).
    pub fn checkpoint_after(
        &self,
        key: &NodeKey,
        previous: Option<&Checkpoint>,
    ) -> Result<Result<Checkpoint, AuditBreak>> {
        let verified = match previous {
            Some(p) => self.verify_audit_after(p.seq, &p.head_hash)?,
            None => self.verify_audit()?,
        };
        Ok(verified.map(|s| key.sign(s.entries, &s.head_hash, self.now_ms())))
    }

    /// Signs the head (see [`Store::checkpoint_after`]) and writes it to
    /// `DATA/checkpoints/checkpoint-<seq>-<at_ms>.json`.
    pub fn write_checkpoint(
        &self,
        key: &NodeKey,
        previous: Option<&Checkpoint>,
    ) -> Result<Result<(Checkpoint, PathBuf), AuditBreak>> {
        let cp = match self.checkpoint_after(key, previous)? {
            Ok(cp) => cp,
            Err(b) => return Ok(Err(b)),
        };
        let dir = self.dir.join(CHECKPOINT_DIR);
        std::fs::create_dir_all(&dir)
            .map_err(|e| StoreError::Internal(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join(format!("checkpoint-{:012}-{}.json", cp.seq, cp.at_ms));
        let json = serde_json::to_string_pretty(&cp).expect("checkpoints serialise");
        crate::write_atomic(&path, format!("{json}\n").as_bytes(), false)
            .map_err(|e| StoreError::Internal(format!("cannot write {}: {e}", path.display())))?;
        Ok(Ok((cp, path)))
    }

    /// Verifies the chain, then that it still holds the checkpoint's entry with the checkpoint's
    /// hash. The signature is the caller's to check first ([`Checkpoint::verify_signature`]).
    pub fn verify_against(&self, cp: &Checkpoint) -> Result<Result<AuditSummary, CheckpointError>> {
        let summary = match self.verify_audit()? {
            Ok(s) => s,
            Err(b) => return Ok(Err(b.into())),
        };
        if cp.seq == 0 && cp.head_hash == crate::audit::GENESIS_HASH {
            return Ok(Ok(summary));
        }
        if summary.entries < cp.seq {
            return Ok(Err(CheckpointError::Truncated {
                seq: cp.seq,
                hash: cp.head_hash.clone(),
                head_seq: summary.entries,
            }));
        }
        let found: Option<String> = {
            use crate::Db;
            use rusqlite::OptionalExtension;
            self.conn
                .lock()
                .query_row("SELECT hash FROM audit WHERE seq = ?1", [cp.seq], |r| r.get(0))
                .optional()
                .db()?
        };
        match found {
            Some(h) if h == cp.head_hash => Ok(Ok(summary)),
            other => Ok(Err(CheckpointError::Rewritten {
                seq: cp.seq,
                hash: cp.head_hash.clone(),
                found: other.unwrap_or_else(|| "none".into()),
            })),
        }
    }
}

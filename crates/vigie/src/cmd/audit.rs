//! `vigie audit verify|checkpoint|public-key`: the audit trail's hash chain and its signed
//! checkpoints, as an auditor checks them.

use super::{open_store, store_err};
use anyhow::{bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};
use vigie_store::{Checkpoint, NodeKey};

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; exits non-zero naming the first bad entry. With `--checkpoint`, also
    /// checks each checkpoint's signature and that the trail still holds its entry and hash.
    Verify {
        #[arg(long)]
        data: PathBuf,
        /// Signed checkpoint file(s) kept by the auditor (`vigie audit checkpoint`).
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
        /// The node's public key (hex, or a file holding it) as the auditor recorded it; defaults
        /// to `DATA/audit-signing.pub`.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Sign the trail's head now: writes `DATA/checkpoints/…` and, with `--out`, a copy to keep.
    Checkpoint {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the node's public key (hex), which checks its checkpoints.
    PublicKey {
        #[arg(long)]
        data: PathBuf,
    },
}

impl AuditCommand {
    /// The data directory the command works on, when it names one.
    pub fn data(&self) -> Option<&Path> {
        match self {
            AuditCommand::Verify { data, .. } => Some(data.as_path()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

pub fn run(args: AuditArgs) -> anyhow::Result<()> {
    run_with(args, &mut std::io::stdout())
}

pub fn run_with(args: AuditArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        AuditCommand::Verify { data, checkpoint, public_key } => {
            let store = open_store(&data, true)?;
            if checkpoint.is_empty() {
                return match store.verify_audit().map_err(store_err)? {
                    Ok(s) => {
                        writeln!(out, "audit trail intact: {} entries, head hash {}", s.entries, s.head_hash)?;
                        Ok(())
                    }
                    Err(b) => Err(anyhow::anyhow!(b)),
                };
            }
            let trusted = trusted_key(&data, public_key.as_deref())?;
            for file in &checkpoint {
                let cp = Checkpoint::read(file)?;
                cp.verify_signature(trusted.as_deref()).with_context(|| file.display().to_string())?;
                let s = store.verify_against(&cp).map_err(store_err)?.with_context(|| file.display().to_string())?;
                writeln!(
                    out,
                    "audit trail intact: {} entries, head hash {}; holds checkpoint {} (seq {}, {})",
                    s.entries,
                    s.head_hash,
                    file.display(),
                    cp.seq,
                    cp.at
                )?;
            }
            Ok(())
        }
        AuditCommand::Checkpoint { data, out: copy } => {
            let store = open_store(&data, true)?;
            let key = NodeKey::load_or_create(&data).map_err(store_err)?;
            let (cp, path) = store
                .write_checkpoint(&key, None)
                .map_err(store_err)?
                .map_err(|b| anyhow::anyhow!("{b}; not signing a trail that does not verify"))?;
            if let Some(copy) = &copy {
                std::fs::copy(&path, copy).with_context(|| format!("copying the checkpoint to {}", copy.display()))?;
            }
            writeln!(
                out,
                "checkpoint: seq {} head hash {} at {}, signed by key {}; written to {}",
                cp.seq,
                cp.head_hash,
                cp.at,
                cp.public_key,
                copy.as_ref().unwrap_or(&path).display()
            )?;
            Ok(())
        }
        AuditCommand::PublicKey { data } => {
            let key = NodeKey::load_or_create(&data).map_err(store_err)?;
            writeln!(out, "{}", key.public_hex())?;
            Ok(())
        }
    }
}

/// `--public-key` as hex or as a file holding it; else the node's own public key file, when there.
fn trusted_key(data: &Path, given: Option<&str>) -> anyhow::Result<Option<String>> {
    let is_hex = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    match given {
        Some(k) if is_hex(k.trim()) => Ok(Some(k.trim().to_ascii_lowercase())),
        Some(f) => {
            let text = std::fs::read_to_string(f)
                .with_context(|| format!("--public-key: '{f}' is neither 64 hex digits nor a readable file"))?;
            if !is_hex(text.trim()) {
                bail!("--public-key: {f} does not hold a 64-hex-digit Ed25519 public key");
            }
            Ok(Some(text.trim().to_ascii_lowercase()))
        }
        None => Ok(std::fs::read_to_string(data.join(vigie_store::checkpoint::PUBLIC_KEY_FILE))
            .ok()
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| is_hex(t))),
    }
}

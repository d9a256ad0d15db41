//! Where segment files live. The recorder, retention and export only see [`SegmentStore`], so
//! the local-disk store can be replaced by an S3-compatible one (multipart upload on `create`,
//! publish on `commit`) without touching them.

use futures::executor::block_on;
use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Suffix of a segment still being written. It only becomes a segment on `commit`.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// One object found by [`SegmentStore::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Key without the partial suffix, e.g. `cam-1/2026-11-28/1764338400000.mp4`.
    pub key: String,
    pub bytes: u64,
    /// Left behind by a writer that never committed (crash, power cut).
    pub partial: bool,
}

pub trait SegmentStore: Send + Sync + std::fmt::Debug {
    /// Starts writing the object `key`; it stays a partial object until [`SegmentWriter::commit`].
    fn create(&self, key: &str) -> io::Result<Box<dyn SegmentWriter>>;
    /// Whole content of a committed object.
    fn read(&self, key: &str) -> io::Result<Vec<u8>>;
    /// Content of a partial object, for salvage after a crash.
    fn read_partial(&self, key: &str) -> io::Result<Vec<u8>>;
    /// Deletes a committed object. `NotFound` if it is not there.
    fn delete(&self, key: &str) -> io::Result<()>;
    /// Deletes a partial object.
    fn delete_partial(&self, key: &str) -> io::Result<()>;
    /// Keeps the first `len` bytes of a partial object and publishes it under its key.
    fn salvage_partial(&self, key: &str, len: u64) -> io::Result<()>;
    /// Moves a committed object aside (unreadable file found at startup); returns where it went.
    fn quarantine(&self, key: &str) -> io::Result<String>;
    fn exists(&self, key: &str) -> io::Result<bool>;
    /// Every committed and partial object.
    fn list(&self) -> io::Result<Vec<StoredObject>>;
    /// Human-readable location, for status pages and errors.
    fn describe(&self) -> String;
}

/// An object being written. Dropping it without `commit` leaves a partial object behind, exactly
/// what a crash would, so the startup check handles both the same way.
pub trait SegmentWriter: Write + Send {
    /// Makes the bytes durable (fsync) and publishes the object under its key atomically.
    fn commit(self: Box<Self>) -> io::Result<()>;
    /// Throws the partial object away (after a write error, to give back the space).
    fn abort(self: Box<Self>);
}

/// Segment files under one directory of a local disk: `<root>/<camera>/<day>/<start_ms>.mp4`.
///
/// Committed segments are objects of the `object_store` crate's local filesystem (read, list,
/// delete, and the publishing rename, fsynced), the same interface its S3 store offers. The
/// segment being written is a plain file next to where it will be published, appended to and
/// fsynced fragment by fragment: object stores cannot append, and that file is what a crash
/// leaves behind for salvage.
#[derive(Debug)]
pub struct LocalDiskStore {
    root: PathBuf,
    objects: Arc<LocalFileSystem>,
    quarantine: PathBuf,
    /// Optional cap on the bytes this store may hold, enforced on write like a full disk. Lets
    /// tests (and operators sharing a disk) see the disk-full path without filling a real disk.
    quota: Option<u64>,
    used: Arc<AtomicU64>,
}

impl LocalDiskStore {
    pub fn open(root: impl Into<PathBuf>, quarantine: impl Into<PathBuf>, quota: Option<u64>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        // fsync: a published segment and its directory entry are on disk before the catalogue
        // names it. Cleanup: a deleted camera leaves no empty day and camera directories.
        let objects = LocalFileSystem::new_with_prefix(&root)
            .map_err(io::Error::from)?
            .with_fsync(true)
            .with_automatic_cleanup(true);
        let store = Self {
            root,
            objects: Arc::new(objects),
            quarantine: quarantine.into(),
            quota,
            used: Arc::new(AtomicU64::new(0)),
        };
        let used: u64 = store.list()?.iter().map(|o| o.bytes).sum();
        store.used.store(used, Ordering::Relaxed);
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Bytes currently held (committed and partial).
    pub fn used_bytes(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        // Keys are built by the archive; refuse anything that could leave the root.
        if key.is_empty() || key.starts_with('/') || key.split('/').any(|p| p.is_empty() || p == "." || p == "..") {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("invalid segment key '{key}'")));
        }
        Ok(self.root.join(key))
    }

    fn partial_path(&self, key: &str) -> io::Result<PathBuf> {
        let mut p = self.path(key)?.into_os_string();
        p.push(PARTIAL_SUFFIX);
        Ok(PathBuf::from(p))
    }

    /// The object name of `key` (checked as a file path first, so it cannot leave the root).
    fn object(&self, key: &str) -> io::Result<ObjectPath> {
        self.path(key)?;
        ObjectPath::parse(key).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }

    fn partial_object(&self, key: &str) -> io::Result<ObjectPath> {
        self.object(&format!("{key}{PARTIAL_SUFFIX}"))
    }

    fn release(&self, bytes: u64) {
        let _ = self.used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| Some(u.saturating_sub(bytes)));
    }
}

impl SegmentStore for LocalDiskStore {
    fn create(&self, key: &str) -> io::Result<Box<dyn SegmentWriter>> {
        let final_path = self.path(key)?;
        let partial = self.partial_path(key)?;
        if let Some(dir) = final_path.parent() {
            fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().write(true).create(true).truncate(true).open(&partial)?;
        Ok(Box::new(LocalWriter {
            file: Some(file),
            partial,
            from: self.partial_object(key)?,
            to: self.object(key)?,
            objects: self.objects.clone(),
            written: 0,
            quota: self.quota,
            used: self.used.clone(),
        }))
    }

    fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        let location = self.object(key)?;
        block_on(async { self.objects.get(&location).await?.bytes().await })
            .map(|b| b.to_vec())
            .map_err(io::Error::from)
    }

    fn read_partial(&self, key: &str) -> io::Result<Vec<u8>> {
        fs::read(self.partial_path(key)?)
    }

    fn delete(&self, key: &str) -> io::Result<()> {
        let location = self.object(key)?;
        let len = block_on(self.objects.head(&location))?.size;
        // Empty day and camera directories go too (automatic cleanup), so a deleted camera
        // leaves no trace.
        block_on(self.objects.delete(&location))?;
        self.release(len);
        Ok(())
    }

    fn delete_partial(&self, key: &str) -> io::Result<()> {
        let p = self.partial_path(key)?;
        let len = fs::metadata(&p)?.len();
        fs::remove_file(&p)?;
        self.release(len);
        Ok(())
    }

    fn salvage_partial(&self, key: &str, len: u64) -> io::Result<()> {
        let partial = self.partial_path(key)?;
        let f = OpenOptions::new().write(true).open(&partial)?;
        let old = f.metadata()?.len();
        f.set_len(len)?;
        f.sync_all()?;
        drop(f);
        block_on(self.objects.rename(&self.partial_object(key)?, &self.object(key)?))?;
        self.release(old.saturating_sub(len));
        Ok(())
    }

    fn quarantine(&self, key: &str) -> io::Result<String> {
        let from = self.path(key)?;
        let to = self.quarantine.join(key.replace('/', "__"));
        fs::create_dir_all(&self.quarantine)?;
        let len = fs::metadata(&from)?.len();
        fs::rename(&from, &to).or_else(|_| fs::copy(&from, &to).and_then(|_| fs::remove_file(&from)))?;
        self.release(len);
        Ok(to.display().to_string())
    }

    fn exists(&self, key: &str) -> io::Result<bool> {
        let location = self.object(key)?;
        match block_on(self.objects.head(&location)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn list(&self) -> io::Result<Vec<StoredObject>> {
        let metas: Vec<object_store::ObjectMeta> = block_on(self.objects.list(None).try_collect())?;
        let mut out: Vec<StoredObject> = metas
            .into_iter()
            .map(|m| {
                let key = m.location.as_ref();
                match key.strip_suffix(PARTIAL_SUFFIX) {
                    Some(k) => StoredObject { key: k.to_string(), bytes: m.size, partial: true },
                    None => StoredObject { key: key.to_string(), bytes: m.size, partial: false },
                }
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    fn describe(&self) -> String {
        match self.quota {
            Some(q) => format!("local disk {} (quota {q} bytes)", self.root.display()),
            None => format!("local disk {}", self.root.display()),
        }
    }
}

struct LocalWriter {
    file: Option<File>,
    partial: PathBuf,
    /// The partial object and the name it is published under.
    from: ObjectPath,
    to: ObjectPath,
    objects: Arc<LocalFileSystem>,
    written: u64,
    quota: Option<u64>,
    used: Arc<AtomicU64>,
}

impl Write for LocalWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len() as u64;
        if let Some(q) = self.quota {
            let ok = self.used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| (u + n <= q).then_some(u + n));
            if ok.is_err() {
                return Err(io::Error::new(
                    io::ErrorKind::StorageFull,
                    format!("storage quota of {q} bytes reached writing {}", self.partial.display()),
                ));
            }
        } else {
            self.used.fetch_add(n, Ordering::Relaxed);
        }
        let file = self.file.as_mut().expect("writer used after commit");
        match file.write_all(buf) {
            Ok(()) => {
                self.written += n;
                Ok(buf.len())
            }
            Err(e) => {
                self.used.fetch_sub(n, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

impl SegmentWriter for LocalWriter {
    fn commit(mut self: Box<Self>) -> io::Result<()> {
        let file = self.file.take().expect("committed twice");
        file.sync_all()?;
        drop(file);
        // The store's rename fsyncs the directory: the segment is durable under its name.
        block_on(self.objects.rename(&self.from, &self.to))?;
        Ok(())
    }

    fn abort(mut self: Box<Self>) {
        self.file.take();
        if fs::remove_file(&self.partial).is_ok() {
            let _ =
                self.used.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |u| Some(u.saturating_sub(self.written)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_objects_become_visible_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalDiskStore::open(dir.path().join("seg"), dir.path().join("q"), None).unwrap();
        let mut w = s.create("cam/2026-01-01/1.mp4").unwrap();
        w.write_all(b"hello").unwrap();
        assert_eq!(
            s.list().unwrap(),
            vec![StoredObject { key: "cam/2026-01-01/1.mp4".into(), bytes: 5, partial: true }]
        );
        assert!(!s.exists("cam/2026-01-01/1.mp4").unwrap());
        w.commit().unwrap();
        assert_eq!(s.read("cam/2026-01-01/1.mp4").unwrap(), b"hello");
        assert!(!s.list().unwrap()[0].partial);
        s.delete("cam/2026-01-01/1.mp4").unwrap();
        assert!(s.list().unwrap().is_empty());
        assert!(!dir.path().join("seg/cam").exists(), "empty directories removed");
        assert!(s.read("../etc/passwd").is_err());
    }

    #[test]
    fn escaped_camera_keys_keep_their_file_names() {
        // Archives written before segments went through object_store must still be found.
        let dir = tempfile::tempdir().unwrap();
        let s = LocalDiskStore::open(dir.path().join("seg"), dir.path().join("q"), None).unwrap();
        let key = "cam%201/2026-01-01/1.mp4";
        let mut w = s.create(key).unwrap();
        w.write_all(b"abc").unwrap();
        w.commit().unwrap();
        assert!(dir.path().join("seg/cam%201/2026-01-01/1.mp4").is_file());
        let old = dir.path().join("seg/caf%C3%A9/2026-01-01/2.mp4");
        fs::create_dir_all(old.parent().unwrap()).unwrap();
        fs::write(&old, b"de").unwrap();
        assert_eq!(
            s.list().unwrap(),
            vec![
                StoredObject { key: "caf%C3%A9/2026-01-01/2.mp4".into(), bytes: 2, partial: false },
                StoredObject { key: key.into(), bytes: 3, partial: false },
            ]
        );
        assert_eq!(s.read("caf%C3%A9/2026-01-01/2.mp4").unwrap(), b"de");
        assert!(s.exists(key).unwrap());
        s.delete(key).unwrap();
        assert!(!s.exists(key).unwrap());
        assert_eq!(s.read(key).unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn quota_refuses_writes_like_a_full_disk() {
        let dir = tempfile::tempdir().unwrap();
        let s = LocalDiskStore::open(dir.path().join("seg"), dir.path().join("q"), Some(10)).unwrap();
        let mut w = s.create("c/d/1.mp4").unwrap();
        w.write_all(b"12345678").unwrap();
        let e = w.write_all(b"12345").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        w.abort();
        assert_eq!(s.used_bytes(), 0);
        assert!(s.list().unwrap().is_empty());
    }
}

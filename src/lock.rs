//! One `serve` per database: an advisory lock on `<database>.lock`, held for the life of
//! the process. The lock is named after the database's canonical path, so a symlink, a
//! `..` or a relative path to the same file finds the same lock. The lock is released by the operating system when the process ends, even
//! when it is killed, so a stale lock file never blocks a restart. CLI commands do not take
//! it: they share the database through WAL and the busy timeout.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another `ratingwatch serve`{holder} is already running on the database {database} (it holds {lock}); \
         stop it first (e.g. `systemctl stop ratingwatch`), or give this one another database with --db"
    )]
    AlreadyRunning { database: PathBuf, lock: PathBuf, holder: String },
    #[error("cannot lock {lock}: {source}")]
    Io { lock: PathBuf, source: std::io::Error },
}

/// Held while the service runs; dropping it releases the lock.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
    path: PathBuf,
}

impl InstanceLock {
    /// `data/ratingwatch.db` → `/abs/data/ratingwatch.db.lock`, from the database's
    /// canonical path (symlinks followed), so every spelling of one database shares a lock.
    pub fn path_for(database: &Path) -> PathBuf {
        let mut name = canonical_database(database).into_os_string();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock or fails at once (never waits) naming the running instance's pid.
    pub fn acquire(database: &Path) -> Result<InstanceLock, LockError> {
        // The folder first: a database that does not exist yet is canonicalised through it.
        if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| LockError::Io { lock: InstanceLock::path_for(database), source })?;
        }
        let path = InstanceLock::path_for(database);
        let io = |source| LockError::Io { lock: path.clone(), source };
        // Not truncated on open: the file holds the running instance's pid until we own it.
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                let pid = pid.trim();
                let holder = if pid.is_empty() { String::new() } else { format!(" (pid {pid})") };
                return Err(LockError::AlreadyRunning { database: database.to_path_buf(), lock: path, holder });
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(InstanceLock { _file: file, path })
    }

    /// Whether some process holds the lock of `database` now (for `status`). Probing takes
    /// the lock for an instant when it is free, which is harmless: it is released at once.
    /// Read-only, so a user who may only read the service's files can still ask.
    pub fn is_held(database: &Path) -> bool {
        let path = InstanceLock::path_for(database);
        let Ok(file) = File::open(&path) else {
            return false;
        };
        matches!(file.try_lock(), Err(TryLockError::WouldBlock))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The canonical path of `database`. A database that does not exist yet (first start) is
/// resolved through any dangling symlink by hand, then through its canonical folder.
fn canonical_database(database: &Path) -> PathBuf {
    if let Ok(canonical) = std::fs::canonicalize(database) {
        return canonical;
    }
    let mut current = database.to_path_buf();
    // 40 is the kernel's own limit on symlinks followed in one lookup.
    for _ in 0..40 {
        let Ok(target) = std::fs::read_link(&current) else { break };
        current = match current.parent() {
            Some(parent) => parent.join(target),
            None => target,
        };
    }
    match (current.parent(), current.file_name()) {
        (Some(parent), Some(name)) => {
            let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            std::fs::canonicalize(parent).map(|folder| folder.join(name)).unwrap_or(current)
        }
        _ => current,
    }
}

/// Whether a process with this id exists now. Used to tell a run whose process was killed
/// from one still going. On Linux it reads `/proc`; elsewhere it answers `true`, which
/// only means such runs stay `running` until the service's lock is free.
pub fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") { Path::new("/proc").join(pid.to_string()).exists() } else { true }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the lock of `database` is free within two seconds.
    fn released_soon(database: &Path) -> bool {
        (0..200).any(|_| {
            let free = !InstanceLock::is_held(database);
            if !free {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            free
        })
    }

    #[test]
    fn a_second_lock_on_the_same_database_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("data").join("test.db");
        assert!(!InstanceLock::is_held(&database));
        let first = InstanceLock::acquire(&database).unwrap();
        assert_eq!(first.path(), std::fs::canonicalize(dir.path()).unwrap().join("data").join("test.db.lock"));
        assert!(InstanceLock::is_held(&database));

        let message = InstanceLock::acquire(&database).unwrap_err().to_string();
        assert!(message.contains(&format!("(pid {})", std::process::id())), "{message}");
        assert!(message.contains("already running on the database") && message.contains("--db"), "{message}");

        drop(first);
        // Another test of this binary may be spawning a child process right now: between its
        // fork and exec the child shares every open file description of this process, ours
        // included, and so the lock. That window is short; wait it out (bounded) instead of
        // failing on it. What is asserted stays the same: dropping the lock frees it.
        assert!(released_soon(&database), "the lock is still held after it was dropped");
        let again = InstanceLock::acquire(&database).unwrap();
        assert_eq!(std::fs::read_to_string(again.path()).unwrap(), std::process::id().to_string());
    }

    #[test]
    fn a_symlink_to_the_database_finds_the_same_lock() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("real.db");
        std::fs::write(&database, b"").unwrap();
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink(&database, &link).unwrap();
        let first = InstanceLock::acquire(&database).unwrap();
        assert!(InstanceLock::is_held(&link));
        let message = InstanceLock::acquire(&link).unwrap_err().to_string();
        assert!(message.contains("already running"), "{message}");
        drop(first);
        // Through `..` and a link to the folder, before the database exists.
        let folder_link = dir.path().join("folder-link");
        std::os::unix::fs::symlink(dir.path(), &folder_link).unwrap();
        let fresh = folder_link.join("sub").join("..").join("fresh.db");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let _held = InstanceLock::acquire(&fresh).unwrap();
        assert!(InstanceLock::acquire(&dir.path().join("fresh.db")).is_err());
    }

    #[test]
    fn a_dangling_symlink_locks_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.db");
        std::os::unix::fs::symlink("target.db", &link).unwrap();
        assert_eq!(InstanceLock::path_for(&link), canonical_database(dir.path()).join("target.db.lock"));
    }

    #[test]
    fn this_process_is_alive_and_a_finished_child_is_not() {
        assert!(process_alive(std::process::id()));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!process_alive(pid) || !cfg!(target_os = "linux"));
    }
}

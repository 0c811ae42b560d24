//! One `serve` per database: an advisory lock on `<database>.lock`, held for the life of
//! the process. The lock is released by the operating system when the process ends, even
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
    /// `data/ratingwatch.db` → `data/ratingwatch.db.lock`.
    pub fn path_for(database: &Path) -> PathBuf {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock or fails at once (never waits) naming the running instance's pid.
    pub fn acquire(database: &Path) -> Result<InstanceLock, LockError> {
        let path = InstanceLock::path_for(database);
        let io = |source| LockError::Io { lock: path.clone(), source };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_database_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("data").join("test.db");
        assert!(!InstanceLock::is_held(&database));
        let first = InstanceLock::acquire(&database).unwrap();
        assert_eq!(first.path(), dir.path().join("data").join("test.db.lock"));
        assert!(InstanceLock::is_held(&database));

        let message = InstanceLock::acquire(&database).unwrap_err().to_string();
        assert!(message.contains(&format!("(pid {})", std::process::id())), "{message}");
        assert!(message.contains("already running on the database") && message.contains("--db"), "{message}");

        drop(first);
        assert!(!InstanceLock::is_held(&database));
        let again = InstanceLock::acquire(&database).unwrap();
        assert_eq!(std::fs::read_to_string(again.path()).unwrap(), std::process::id().to_string());
    }
}

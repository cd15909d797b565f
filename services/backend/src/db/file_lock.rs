//! Exclusive locks on a file beside a SQLite database (`todo.db` → `todo.db<suffix>`), taken
//! with a bounded wait and released when the file is dropped or the process ends.

use std::{
    fs::{File, TryLockError},
    path::{Path, PathBuf},
    time::Duration,
};

use tokio::time::Instant;

/// Why a lock beside the database was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another process held {} for over {} s", path.display(), waited.as_secs())]
    Held { path: PathBuf, waited: Duration },
    #[error("locking {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Locks `<database><suffix>`, trying again every 50 ms for up to `wait` while another process
/// holds it; `waiting` is called once, the first time it is found held.
pub async fn lock_beside(
    database: &Path,
    suffix: &str,
    wait: Duration,
    waiting: impl FnOnce(&Path),
) -> Result<File, LockError> {
    let mut path = database.as_os_str().to_owned();
    path.push(suffix);
    let path = PathBuf::from(path);
    let file = match File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(source) => return Err(LockError::Io { path, source }),
    };
    let deadline = Instant::now() + wait;
    let mut waiting = Some(waiting);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::Error(source)) => return Err(LockError::Io { path, source }),
            Err(TryLockError::WouldBlock) if Instant::now() >= deadline => {
                return Err(LockError::Held { path, waited: wait });
            }
            Err(TryLockError::WouldBlock) => {
                if let Some(waiting) = waiting.take() {
                    waiting(&path);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_held_lock_is_waited_for_then_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("todo.db");
        let first = lock_beside(&database, ".lock", Duration::ZERO, |_| {})
            .await
            .unwrap();
        let mut told = 0;
        let error = lock_beside(&database, ".lock", Duration::from_millis(200), |_| {
            told += 1;
        })
        .await
        .unwrap_err();
        assert_eq!(told, 1, "the wait is announced once");
        assert!(
            matches!(&error, LockError::Held { path, .. } if path.ends_with("todo.db.lock")),
            "{error}"
        );
        drop(first);
        lock_beside(&database, ".lock", Duration::ZERO, |_| {})
            .await
            .unwrap();
    }
}

//! The address file: where a running `guichet serve` records, in its store's directory, the
//! address it actually listens on, so that the staff commands find it instead of guessing.
//!
//! `serve` writes it once bound (atomically: a temporary file renamed over it) and removes it
//! when it stops. A `kill -9` leaves it behind; that is harmless, since the staff commands read
//! it only while the store is locked, that is while a later `serve` runs, which wrote its own.
//! The file names the store's instance id: a reader checks it against the `store_id` that the
//! server's `/healthz` reports, and refuses a server of another store. This module reads and
//! writes the file; it does no HTTP.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

/// The file's name in the store's directory.
pub const FILE_NAME: &str = "serve.json";

/// What a running `serve` records: `{"address":"127.0.0.1:9123","pid":1234,"store_id":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressFile {
    /// The address the server listens on, as bound (the real port when asked for port 0).
    pub address: SocketAddr,
    /// The server's process id, for the coordinator's information.
    pub pid: u32,
    /// The instance id of the store the server holds (`Store::instance_id`).
    pub store_id: String,
}

impl AddressFile {
    /// The file's path for the store in `store_dir`.
    pub fn path(store_dir: &Path) -> PathBuf {
        store_dir.join(FILE_NAME)
    }

    /// Where to connect to the recorded server (see [`reachable`]).
    pub fn connect_to(&self) -> SocketAddr {
        reachable(self.address)
    }

    /// Writes the file into `store_dir` atomically, and returns a guard that removes it when
    /// dropped.
    ///
    /// # Errors
    /// The file cannot be written or renamed into place.
    pub fn record(&self, store_dir: &Path) -> anyhow::Result<Recorded> {
        let path = Self::path(store_dir);
        let temporary = store_dir.join(format!(".{FILE_NAME}.{}", self.pid));
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&temporary)?;
            file.write_all(&serde_json::to_vec(self)?)?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&temporary);
            return Err(e).with_context(|| format!("{} cannot be written", path.display()));
        }
        Ok(Recorded {
            path,
            pid: self.pid,
        })
    }

    /// Reads the file of the store in `store_dir`; `None` when there is none.
    ///
    /// # Errors
    /// The file exists but cannot be read, or does not hold an address file.
    pub fn read(store_dir: &Path) -> anyhow::Result<Option<AddressFile>> {
        let path = Self::path(store_dir);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("{} cannot be read", path.display())),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .with_context(|| format!("{} is not a guichet address file", path.display()))
    }
}

/// Where to connect to a server listening on `address`: one listening on every interface
/// (`0.0.0.0`, `::`) is reached on this machine's loopback.
pub fn reachable(mut address: SocketAddr) -> SocketAddr {
    match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => address.set_ip(Ipv4Addr::LOCALHOST.into()),
        IpAddr::V6(ip) if ip.is_unspecified() => address.set_ip(Ipv6Addr::LOCALHOST.into()),
        _ => {}
    }
    address
}

/// The recorded file, removed when this guard is dropped, unless another process has
/// recorded its own since.
#[derive(Debug)]
pub struct Recorded {
    path: PathBuf,
    pid: u32,
}

impl Drop for Recorded {
    fn drop(&mut self) {
        let ours = std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<AddressFile>(&bytes).ok())
            .is_some_and(|file| file.pid == self.pid);
        if ours {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), error = %e, "the address file could not be removed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(address: &str) -> AddressFile {
        AddressFile {
            address: address.parse().unwrap(),
            pid: 4242,
            store_id: "0123abcd".into(),
        }
    }

    #[test]
    fn a_recorded_file_is_read_back_and_removed_with_its_guard() {
        let dir = tempfile::tempdir().unwrap();
        let recorded = file("127.0.0.1:9123").record(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join("serve.json")).unwrap();
        assert_eq!(
            text.trim(),
            r#"{"address":"127.0.0.1:9123","pid":4242,"store_id":"0123abcd"}"#
        );
        assert_eq!(
            AddressFile::read(dir.path()).unwrap(),
            Some(file("127.0.0.1:9123"))
        );
        drop(recorded);
        assert_eq!(AddressFile::read(dir.path()).unwrap(), None);
        // No temporary file is left behind either.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_guard_leaves_another_process_s_file_alone() {
        let dir = tempfile::tempdir().unwrap();
        let recorded = file("127.0.0.1:9123").record(dir.path()).unwrap();
        let mut other = file("127.0.0.1:9124");
        other.pid = 7;
        let _other = other.record(dir.path()).unwrap();
        drop(recorded);
        assert_eq!(AddressFile::read(dir.path()).unwrap(), Some(other));
    }

    #[test]
    fn a_file_that_is_not_an_address_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("serve.json"), "{}").unwrap();
        let err = AddressFile::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("serve.json"), "{err}");
    }

    #[test]
    fn a_server_on_every_interface_is_reached_on_the_loopback() {
        assert_eq!(
            file("0.0.0.0:8080").connect_to(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            file("[::]:8080").connect_to(),
            "[::1]:8080".parse().unwrap()
        );
        assert_eq!(
            file("10.0.0.5:8080").connect_to(),
            "10.0.0.5:8080".parse().unwrap()
        );
    }
}

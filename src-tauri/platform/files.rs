//! What a file says of itself beyond std's portable metadata, and keeping a file to its owner.

use std::fs::Metadata;
use std::path::Path;

/// Where a file is on its disk and when it last changed, as far as the system says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The change time (seconds, nanoseconds): set by every write, and never set back by a tool.
    pub changed: (i64, i64),
    pub device: u64,
    pub inode: u64,
}

/// `meta`'s identity. Without unix's change time and inode (Windows), the modification time
/// stands in and the place is unknown (zero): a stamp then sees fewer changes, never a false one.
pub fn identity(meta: &Metadata) -> Identity {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Identity {
            changed: (meta.ctime(), meta.ctime_nsec()),
            device: meta.dev(),
            inode: meta.ino(),
        }
    }
    #[cfg(not(unix))]
    {
        let since = meta
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::SystemTime::UNIX_EPOCH).ok())
            .unwrap_or_default();
        Identity {
            changed: (
                i64::try_from(since.as_secs()).unwrap_or(0),
                i64::from(since.subsec_nanos()),
            ),
            device: 0,
            inode: 0,
        }
    }
}

/// The permission bits an image's file gets from `meta`: unix's own; elsewhere 0755 for
/// folders and 0644 for files (0444 when read-only), as Docker's CLI does on Windows.
pub fn mode(meta: &Metadata) -> u32 {
    #[cfg(unix)]
    {
        std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777
    }
    #[cfg(not(unix))]
    {
        match (meta.is_dir(), meta.permissions().readonly()) {
            (true, _) => 0o755,
            (false, true) => 0o444,
            (false, false) => 0o644,
        }
    }
}

/// Readable and writable by its owner only (0600). On Windows a file in the person's profile
/// is theirs already, so there is nothing to change.
pub fn keep_to_owner(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_changes_the_identity_and_an_untouched_file_keeps_it() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "one")?;
        let first = identity(&std::fs::metadata(&file)?);
        assert_eq!(first, identity(&std::fs::metadata(&file)?));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, "two")?;
        assert_ne!(first.changed, identity(&std::fs::metadata(&file)?).changed);
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn a_kept_file_is_its_owners_alone_and_modes_are_the_permission_bits() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("secret");
        std::fs::write(&file, "x")?;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o4755))?;
        assert_eq!(mode(&std::fs::metadata(&file)?), 0o4755);
        keep_to_owner(&file)?;
        assert_eq!(std::fs::metadata(&file)?.permissions().mode() & 0o777, 0o600);
        Ok(())
    }
}

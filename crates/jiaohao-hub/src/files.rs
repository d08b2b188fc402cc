//! The hub's open-file limit: every connection costs one file, so the limit bounds how many
//! clients the hub can hold. At start the hub raises its soft limit to the hard one (the
//! `rlimit` crate; glibc makes that the `prlimit64` call, which the packaged unit's system-call
//! filter allows, and the unit allows `setrlimit` too), logs both, and sizes its connection
//! capacity from the result (`limits.rs`).

use crate::http::limits::FILES_FOR_THE_HUB;

/// The open-file limits, soft and hard, after the hub raised the soft one as far as it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    pub soft: u64,
    pub hard: u64,
    /// The soft limit before the hub raised it.
    pub was: u64,
}

impl OpenFiles {
    /// Connections the hub may hold at once with these limits.
    pub fn connection_capacity(&self) -> u32 {
        u32::try_from(self.soft.saturating_sub(FILES_FOR_THE_HUB).max(16)).unwrap_or(u32::MAX)
    }
}

/// Raises the soft open-file limit to the hard one when it is lower, and returns both; on a
/// system that will not say, assumes the usual 1,024.
pub fn raise_open_file_limit() -> OpenFiles {
    let Ok((soft, hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) else {
        return OpenFiles {
            soft: 1024,
            hard: 1024,
            was: 1024,
        };
    };
    // Beyond a million, the figure no longer means anything for a hall.
    let target = hard.min(1 << 20);
    if soft >= target {
        return OpenFiles {
            soft,
            hard,
            was: soft,
        };
    }
    match rlimit::setrlimit(rlimit::Resource::NOFILE, target, hard) {
        Ok(()) => OpenFiles {
            soft: target,
            hard,
            was: soft,
        },
        Err(error) => {
            tracing::warn!(%error, soft, hard, "cannot raise the open-file limit");
            OpenFiles {
                soft,
                hard,
                was: soft,
            }
        }
    }
}

//! What the engine answers when it cannot do what it was asked. It knows nothing of HTTP:
//! the http layer turns it into a status and a JSON body in one place (`ApiError`'s `From`).

/// Why the writer did not do a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The hall's own rules refuse the command (an unknown window, a closed service, …).
    #[error(transparent)]
    Refused(#[from] jiaohao_core::Error),
    /// The log could not be written (disk full, read-only, I/O error): nothing was changed.
    #[error("the log cannot be written now; nothing was changed")]
    Unavailable,
    /// The hub follows another hall's log (a standby) and takes no commands.
    #[error("this hub follows another hall's log and takes no commands")]
    Following,
    /// The writer has stopped, or stops before it answers.
    #[error("the writer is stopping")]
    Stopping,
}

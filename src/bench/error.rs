//! Why a benchmark run failed. A run that cannot measure fails with one of these rather than
//! reporting zeros.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A benchmark failure.
#[derive(Debug)]
#[non_exhaustive]
pub enum BenchError {
    /// The options contradict each other or a limit.
    Config(String),
    /// A connection to the target could not be opened.
    Connect {
        /// The address.
        target: String,
        /// The cause (refused, timed out, ...).
        source: io::Error,
    },
    /// An open connection failed or was closed by the server during the run.
    ConnectionLost {
        /// The address.
        target: String,
        /// The cause; `UnexpectedEof` when the server closed it.
        source: io::Error,
    },
    /// The server sent bytes that are not RESP.
    Protocol {
        /// The address.
        target: String,
        /// What was wrong.
        detail: String,
    },
    /// The server stopped answering: requests were still unanswered after the drain timeout.
    Timeout {
        /// The address.
        target: String,
        /// Requests without a reply.
        pending: u64,
    },
    /// The run completed no operation in its measured window.
    NoCompletions,
    /// A result file given to `corekv-bench chart` could not be read or is not a result.
    Input {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// Writing a report file failed.
    Output {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl BenchError {
    /// A [`BenchError::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        BenchError::Config(message.into())
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Config(message) => write!(f, "invalid options: {message}"),
            BenchError::Connect { target, source } => {
                write!(f, "cannot connect to {target}: {source} (is the server running?)")
            }
            BenchError::ConnectionLost { target, source } => {
                write!(f, "connection to {target} lost during the run: {source}")
            }
            BenchError::Protocol { target, detail } => {
                write!(f, "{target} sent an invalid reply: {detail}")
            }
            BenchError::Timeout { target, pending } => {
                write!(f, "{target} stopped answering: {pending} requests without a reply")
            }
            BenchError::NoCompletions => {
                f.write_str("no operation completed in the measured window; nothing to report")
            }
            BenchError::Input { path, detail } => {
                write!(f, "cannot chart {}: {detail}", path.display())
            }
            BenchError::Output { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for BenchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BenchError::Connect { source, .. }
            | BenchError::ConnectionLost { source, .. }
            | BenchError::Output { source, .. } => Some(source),
            _ => None,
        }
    }
}

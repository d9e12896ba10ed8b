//! Output: tables for people, JSON for scripts, and errors as one line plus a hint.

use serde::Serialize;

/// Process exit codes (documented in the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    /// Something failed.
    Error = 1,
    /// No node is running in the data directory.
    NotRunning = 3,
    /// The thing asked for does not exist.
    NotFound = 4,
    /// Refused: not allowed, or invalid input.
    Refused = 5,
}

/// A CLI failure: message, hint and exit code.
#[derive(Debug)]
pub struct CliError {
    /// One line.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// Exit code.
    pub code: ExitCode,
}

impl CliError {
    /// A new error.
    pub fn new(code: ExitCode, message: impl Into<String>, hint: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            hint: hint.into(),
            code,
        }
    }
}

impl From<crate::Error> for CliError {
    fn from(e: crate::Error) -> Self {
        let code = match &e {
            crate::Error::NotFound(_) => ExitCode::NotFound,
            crate::Error::Crdt(_)
            | crate::Error::BadInvite(_)
            | crate::Error::CatchingUp { .. }
            | crate::Error::StoreTooNew { .. }
            | crate::Error::BadBackup { .. }
            | crate::Error::RestoreTarget(_) => ExitCode::Refused,
            _ => ExitCode::Error,
        };
        CliError::new(code, e.to_string(), e.hint())
    }
}

/// `println!` that ignores a closed stdout (`qun status | head`).
#[macro_export]
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

/// Print `value` as JSON.
pub fn json<T: Serialize>(value: &T) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => crate::say!("{s}"),
        Err(e) => eprintln!("error: cannot print JSON: {e}"),
    }
}

/// Print an aligned table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let w = widths.get(i).copied().unwrap_or(0);
                if i + 1 == cells.len() {
                    c.clone()
                } else {
                    format!("{c:<w$}")
                }
            })
            .collect();
        crate::say!("{}", parts.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_uppercase()).collect());
    for r in rows {
        line(r.clone());
    }
}

/// Shorten a long id for tables.
pub fn short(s: &str) -> String {
    if s.chars().count() > 16 {
        format!("{}…", s.chars().take(14).collect::<String>())
    } else {
        s.to_string()
    }
}

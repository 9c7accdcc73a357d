//! The `--storage` spec: which backend to open, as one string.

use std::fmt;
use std::path::PathBuf;

use redis::IntoConnectionInfo;

const ACCEPTED: &str = "expected sqlite:PATH, memory, or redis://HOST:PORT/DB";

/// A parsed `--storage` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageSpec {
    /// `sqlite:PATH`; a relative path is relative to the working directory.
    Sqlite(PathBuf),
    /// `memory`: this process's memory, lost on restart (bounded, expiring like the others).
    Memory,
    /// `redis://HOST:PORT/DB`, kept verbatim (it may carry a password).
    Redis(String),
}

/// Shows the spec with any Redis password masked, so it can be logged.
impl fmt::Display for StorageSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Self::Memory => f.write_str("memory"),
            Self::Redis(url) => match redis::parse_redis_url(url) {
                Some(mut parsed) if parsed.password().is_some() => {
                    // set_password only fails for URLs without a host, which
                    // parse_storage_spec has already refused.
                    if parsed.set_password(Some("***")).is_err() {
                        return f.write_str("redis://***");
                    }
                    write!(f, "{parsed}")
                }
                _ => f.write_str(url),
            },
        }
    }
}

/// Parses `sqlite:PATH`, `memory` or `redis://HOST:PORT/DB` (surrounding
/// whitespace ignored). The error is one line naming the accepted forms.
pub fn parse_storage_spec(s: &str) -> Result<StorageSpec, String> {
    let s = s.trim();
    if s == "memory" {
        return Ok(StorageSpec::Memory);
    }
    if let Some(path) = s.strip_prefix("sqlite:") {
        if path.is_empty() {
            return Err(format!("storage {s:?} has no path; {ACCEPTED}"));
        }
        return Ok(StorageSpec::Sqlite(PathBuf::from(path)));
    }
    if s.starts_with("redis://") {
        let has_host = redis::parse_redis_url(s).is_some_and(|u| u.host_str().is_some_and(|h| !h.is_empty()));
        if !has_host || s.into_connection_info().is_err() {
            return Err(format!("storage {s:?} is not a valid redis URL; {ACCEPTED}"));
        }
        return Ok(StorageSpec::Redis(s.to_owned()));
    }
    Err(format!("unknown storage {s:?}; {ACCEPTED}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse_storage_spec("sqlite:/var/lib/x/state.sqlite"), Ok(StorageSpec::Sqlite(PathBuf::from("/var/lib/x/state.sqlite"))));
        assert_eq!(parse_storage_spec("sqlite:relative.db"), Ok(StorageSpec::Sqlite(PathBuf::from("relative.db"))));
        assert_eq!(parse_storage_spec("memory"), Ok(StorageSpec::Memory));
        assert_eq!(parse_storage_spec(" memory\n"), Ok(StorageSpec::Memory));
        assert_eq!(parse_storage_spec("redis://127.0.0.1:6379/2"), Ok(StorageSpec::Redis("redis://127.0.0.1:6379/2".to_owned())));
    }

    #[test]
    fn rejects_everything_else_with_the_accepted_forms() {
        for bad in [
            "",
            "sqlite:",
            "sqlite",
            "Memory",
            "mem",
            "postgres://localhost/x",
            "redis://",
            "redis://127.0.0.1:6379/notadb",
            "rediss://127.0.0.1:6379/0",
            "/var/lib/x/state.sqlite",
        ] {
            let err = parse_storage_spec(bad).expect_err(bad);
            assert!(err.contains("sqlite:PATH, memory, or redis://HOST:PORT/DB"), "{bad:?} -> {err}");
            assert!(!err.contains('\n'), "{bad:?} -> multi-line error {err}");
        }
    }

    #[test]
    fn display_masks_the_redis_password() {
        let spec = parse_storage_spec("redis://:hunter2@10.0.0.5:6379/1").unwrap();
        let shown = spec.to_string();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("10.0.0.5:6379/1"), "{shown}");
        assert_eq!(parse_storage_spec("sqlite:a.db").unwrap().to_string(), "sqlite:a.db");
    }
}

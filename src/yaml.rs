//! The one way we read a YAML file and report one that does not parse:
//! evaluation configs, alerts configs and load profiles load through
//! [`load_file`] (text through [`parse_str`]), scenario files through
//! [`describe`], so every parse error is one line with the file's line and
//! column. Each caller words its own error around these.

use std::path::Path;

use serde::de::DeserializeOwned;

/// A YAML file that did not load.
#[derive(Debug)]
pub enum FileError {
    /// The file could not be read.
    Read(std::io::Error),
    /// Its text did not parse into the expected shape.
    Parse(YamlError),
}

/// Reads the file at `path` and parses it as a `T`.
pub fn load_file<T: DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let text = std::fs::read_to_string(path).map_err(FileError::Read)?;
    parse_str(&text).map_err(FileError::Parse)
}

/// Parses `text` as a `T`, the fault located.
pub fn parse_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    serde_saphyr::from_str(text).map_err(|err| describe(&err))
}

/// A YAML parse error, reduced to what a one-line message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line of the fault, when the parser knows it.
    pub line: Option<u64>,
    /// 1-based column of the fault, when the parser knows it.
    pub column: Option<u64>,
    /// The parser's message on one line, without its source snippet and
    /// without the location it repeats (the caller names it first).
    pub message: String,
}

/// Reduces a serde-saphyr error to one line and its location.
pub fn describe(err: &serde_saphyr::Error) -> YamlError {
    let text = err.without_snippet().to_string();
    let mut message = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(rest) = message.strip_prefix("error: ") {
        message = rest.to_owned();
    }
    let location = err.location().map(|at| (at.line(), at.column()));
    if let Some((line, column)) = location {
        let prefix = format!("line {line} column {column}: ");
        if let Some(rest) = message.strip_prefix(&prefix) {
            message = rest.to_owned();
        }
        let suffix = format!(" at line {line}, column {column}");
        if let Some(rest) = message.strip_suffix(&suffix) {
            message = rest.to_owned();
        }
    }
    YamlError {
        line: location.map(|(line, _)| line),
        column: location.map(|(_, column)| column),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
    }

    #[test]
    fn a_parse_error_is_one_line_with_its_location_apart() {
        let err = serde_saphyr::from_str::<Sample>("name: a\nnmae: b\n").unwrap_err();
        let described = describe(&err);
        assert_eq!((described.line, described.column), (Some(2), Some(1)));
        assert!(
            described.message.starts_with("unknown field `nmae`"),
            "{described:?}"
        );
        assert!(!described.message.contains('\n'));
        assert!(!described.message.contains("line 2"), "{described:?}");
    }
}

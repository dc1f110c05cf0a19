//! The one way we report a YAML file that does not parse: scenario files,
//! evaluation configs and load profiles all go through [`describe`], so every
//! parse error is one line with the file's line and column.

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

//! goose's failures sorted: each error text into a timeout, a connection
//! error or a status error ([`failure_kind`]), counted by request, and the
//! short summary of why requests failed that the stage logs on stderr.

use std::collections::BTreeMap;

use goose::metrics::GooseMetrics;

/// What one failed request ran into, read from goose's error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No response within the request timeout (reqwest's "operation timed
    /// out"), or a response body that did not arrive in time.
    Timeout,
    /// No response for any other reason: the connection was refused or
    /// reset, DNS or TLS failed, the body broke off.
    Connection,
    /// A response that was not the expected one: an unexpected HTTP status,
    /// or a failure a compiled transaction recorded about the response.
    Status,
}

/// How goose names an error that left a request without a response
/// (`clean_reqwest_error`): `<kind> <request name>: <cause>`.
const NO_RESPONSE_PREFIXES: [&str; 3] = [
    "error sending request",
    "request or response body error",
    "builder error",
];

/// The kind of failure goose's error text `error` records. A timeout says
/// "timed out" (reqwest's cause, or our body-reading failure); the other
/// failures without a response carry goose's no-response prefixes; what is
/// left got a response: an unexpected status (`503 Service Unavailable:
/// /x`, `404: GET /x: unexpected status; ...`) or a failed check of it.
pub fn failure_kind(error: &str) -> FailureKind {
    if error.contains("timed out") {
        FailureKind::Timeout
    } else if NO_RESPONSE_PREFIXES
        .iter()
        .any(|prefix| error.starts_with(prefix))
        || error.contains("reading the response body failed")
    {
        FailureKind::Connection
    } else {
        FailureKind::Status
    }
}

/// One request's failures by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureKinds {
    /// Failures that timed out.
    pub timeouts: u64,
    /// Failures without a response for another reason.
    pub connection_errors: u64,
    /// Failures with an unexpected response.
    pub status_errors: u64,
}

impl FailureKinds {
    /// Counts `occurrences` of the error text `error`.
    pub fn add(&mut self, error: &str, occurrences: u64) {
        let count = match failure_kind(error) {
            FailureKind::Timeout => &mut self.timeouts,
            FailureKind::Connection => &mut self.connection_errors,
            FailureKind::Status => &mut self.status_errors,
        };
        *count = count.saturating_add(occurrences);
    }

    /// The kinds cut down to at most `failures` in all (timeouts kept first),
    /// so the report never claims more kinds than failures.
    pub fn within(self, failures: u64) -> FailureKinds {
        let timeouts = self.timeouts.min(failures);
        let connection_errors = self.connection_errors.min(failures - timeouts);
        let status_errors = self
            .status_errors
            .min(failures - timeouts - connection_errors);
        FailureKinds {
            timeouts,
            connection_errors,
            status_errors,
        }
    }
}

/// Each request's failures by kind, keyed `(METHOD, name)` as
/// [`RequestTotals`](super::goose_report::RequestTotals) names them, from goose's error table.
pub fn failure_kinds(metrics: &GooseMetrics) -> BTreeMap<(String, String), FailureKinds> {
    let mut kinds: BTreeMap<(String, String), FailureKinds> = BTreeMap::new();
    for error in metrics.errors.values() {
        let key = (
            error.method_label().to_ascii_uppercase(),
            error.name.clone(),
        );
        kinds
            .entry(key)
            .or_default()
            .add(&error.error, error.occurrences as u64);
    }
    kinds
}

/// Most lines the failure summary takes on stderr.
pub const FAILURE_SUMMARY_LINES: usize = 10;

/// The failure summary, at most [`FAILURE_SUMMARY_LINES`] lines: first why
/// requests got no response (`causes`, counted by the scenario file's
/// requests; a certificate problem is named as one, with its fix), then
/// goose's own failure kinds (`errors`: kind and occurrences), most frequent
/// first, and how many kinds did not fit.
pub fn failure_summary(errors: &[(String, usize)], causes: &BTreeMap<String, u64>) -> Vec<String> {
    let mut causes: Vec<(&String, &u64)> = causes.iter().collect();
    causes.sort_by_key(|(_, count)| std::cmp::Reverse(**count));
    let mut errors: Vec<&(String, usize)> = errors.iter().collect();
    errors.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    let mut lines: Vec<String> = causes
        .iter()
        .map(|(cause, count)| match certificate_fix(cause) {
            Some(fix) => {
                format!("{count} requests failed: TLS certificate problem: {cause}; {fix}")
            }
            None => format!("{count} requests got no response: {cause}"),
        })
        .chain(
            errors
                .iter()
                .map(|(error, count)| format!("{count} request failures: {error}")),
        )
        .collect();
    if lines.len() > FAILURE_SUMMARY_LINES {
        let hidden = lines.len() - (FAILURE_SUMMARY_LINES - 1);
        lines.truncate(FAILURE_SUMMARY_LINES - 1);
        lines.push(format!("{hidden} more kinds of request failure not shown"));
    }
    lines
}

/// goose's failure kinds and their occurrences.
///
/// Each kind is named as the report names its request (`GET
/// /fibonacci?n=10: client error (Connect)`), not by goose's internal key
/// (`client error (Connect).GET./fibonacci?n=10`).
pub fn goose_errors(metrics: &GooseMetrics) -> Vec<(String, usize)> {
    metrics
        .errors
        .values()
        .map(|error| {
            (
                failure_line(error.method_label(), &error.name, &error.error),
                error.occurrences,
            )
        })
        .collect()
}

/// `<METHOD> <name>: <error>`, the request named as the report names it;
/// goose's status errors repeat the name (`404 Not Found: checkout`), which
/// is said once.
pub fn failure_line(method: &str, name: &str, error: &str) -> String {
    let error = error
        .strip_suffix(name)
        .and_then(|rest| rest.strip_suffix(": "))
        .unwrap_or(error);
    format!(
        "{}: {error}",
        crate::report::LatencyReport::key(method, name)
    )
}

/// The fix for a failure `cause` that is a rejected server certificate;
/// `None` for any other cause.
pub fn certificate_fix(cause: &str) -> Option<&'static str> {
    if !cause.contains("certificate") {
        return None;
    }
    Some(if cause.contains("CaUsedAsEndEntity") {
        "the server presents a CA certificate as its own (what `openssl req -x509` makes), which TLS refuses; expected a server certificate issued by a CA for the server's name, with gooseCaCertPath set to that CA's certificate, or, for a test only, gooseInsecureSkipTlsVerify: \"true\""
    } else if cause.contains("UnknownIssuer") {
        "the server's certificate is not issued by a CA the stage trusts; expected gooseCaCertPath set to the PEM certificate of the CA that issued it, or, for a test only, gooseInsecureSkipTlsVerify: \"true\""
    } else if cause.contains("NotValidForName") {
        "the server's certificate does not name gooseHost's host; expected gooseHost to use a name the certificate holds (its subject alternative names)"
    } else if cause.contains("Expired") {
        "the server's certificate has expired; expected a renewed certificate"
    } else {
        "expected a server certificate valid for gooseHost's name, issued by a CA in the system roots or in gooseCaCertPath"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goose_s_error_texts_sort_into_timeouts_connection_and_status_errors() {
        use FailureKind::{Connection, Status, Timeout};
        // The texts goose 0.19 and our request sending record.
        let cases = [
            ("error sending request /x: operation timed out", Timeout),
            (
                "200: GET /x: timed out reading the response body; expected the whole body within the request timeout",
                Timeout,
            ),
            (
                "error sending request /x: client error (Connect)",
                Connection,
            ),
            (
                "error sending request /x: client error (SendRequest): connection closed before message completed",
                Connection,
            ),
            (
                "request or response body error /x: error reading a body",
                Connection,
            ),
            (
                "200: GET /x: reading the response body failed; expected the whole body within the request timeout",
                Connection,
            ),
            ("503 Service Unavailable: /x", Status),
            ("504 Gateway Timeout: /x", Status),
            ("404: GET /x: unexpected status; expected 2xx", Status),
            ("the cart was empty", Status),
        ];
        for (error, kind) in cases {
            assert_eq!(failure_kind(error), kind, "{error}");
        }
    }

    #[test]
    fn a_failure_kind_names_its_request_as_the_report_does() {
        assert_eq!(
            failure_line("GET", "/fibonacci?n=10", "client error (Connect)"),
            "GET /fibonacci?n=10: client error (Connect)"
        );
        assert_eq!(
            failure_line("POST", "checkout", "404 Not Found: checkout"),
            "POST checkout: 404 Not Found"
        );
    }

    #[test]
    fn the_failure_summary_names_certificate_problems_and_fits_in_ten_lines() {
        let causes = BTreeMap::from([
            (
                "client error (Connect): invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))".to_string(),
                943,
            ),
            ("tcp connect error: Connection refused (os error 111)".to_string(), 5),
        ]);
        let errors: Vec<(String, usize)> = (0..12)
            .map(|i| {
                (
                    format!("error sending request /x{i}: client error (Connect).GET./x{i}"),
                    i,
                )
            })
            .collect();
        let lines = failure_summary(&errors, &causes);
        assert_eq!(lines.len(), FAILURE_SUMMARY_LINES);
        assert!(
            lines[0].starts_with("943 requests failed: TLS certificate problem: client error (Connect): invalid peer certificate")
                && lines[0].contains("presents a CA certificate as its own")
                && lines[0].contains("gooseCaCertPath"),
            "{}",
            lines[0]
        );
        assert_eq!(
            lines[1],
            "5 requests got no response: tcp connect error: Connection refused (os error 111)"
        );
        assert_eq!(
            lines[2],
            "11 request failures: error sending request /x11: client error (Connect).GET./x11"
        );
        assert_eq!(lines[9], "5 more kinds of request failure not shown");
        let few = failure_summary(&errors[..2], &BTreeMap::new());
        assert_eq!(few.len(), 2, "{few:?}");
        let fixes = [
            (
                "invalid peer certificate: UnknownIssuer",
                "not issued by a CA the stage trusts",
            ),
            (
                "invalid peer certificate: NotValidForName",
                "does not name gooseHost's host",
            ),
            ("invalid peer certificate: Expired", "has expired"),
            (
                "invalid peer certificate: BadSignature",
                "issued by a CA in the system roots",
            ),
        ];
        for (cause, fix) in fixes {
            assert!(certificate_fix(cause).unwrap().contains(fix), "{cause}");
        }
        assert_eq!(certificate_fix("Connection refused (os error 111)"), None);
    }
}

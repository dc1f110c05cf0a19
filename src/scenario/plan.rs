//! A scenario file as written (its specs, with their places in the file)
//! checked and turned into plans: weights, wait times, methods, paths,
//! headers with `${VARIABLE}`s expanded, bodies and expected statuses. Every
//! error names the line and column of the value at fault.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{
    Invalid, MAX_WEIGHT, Method, NoResponseCauses, RequestPlan, ScenarioError, ScenarioPlan,
};

/// A scenario file as written, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct FileSpec {
    pub(super) scenarios: Spanned<Vec<ScenarioSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ScenarioSpec {
    name: String,
    #[serde(default)]
    weight: Option<Spanned<i128>>,
    #[serde(default)]
    wait_time: Option<Spanned<WaitTimeSpec>>,
    transactions: Spanned<Vec<TransactionSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WaitTimeSpec {
    min_ms: u64,
    max_ms: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TransactionSpec {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    weight: Option<Spanned<i128>>,
    #[serde(default)]
    method: Method,
    path: Spanned<String>,
    #[serde(default)]
    headers: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    body: Option<Spanned<String>>,
    #[serde(default)]
    json: Option<Spanned<serde_json::Value>>,
    #[serde(default)]
    expected_status: Option<Spanned<Vec<u16>>>,
}

pub(super) fn scenario_plan(
    scenario: ScenarioSpec,
    env: &impl Fn(&str) -> Option<String>,
    invalid: &impl Invalid,
    no_response: &Arc<NoResponseCauses>,
) -> Result<ScenarioPlan, ScenarioError> {
    let wait_time = match scenario.wait_time {
        None => None,
        Some(wait) if wait.value.min_ms > wait.value.max_ms => {
            return Err(invalid(
                &wait.referenced,
                format!(
                    "waitTime minMs {} is greater than maxMs {}; expected minMs <= maxMs",
                    wait.value.min_ms, wait.value.max_ms
                ),
            ));
        }
        Some(wait) => Some((
            Duration::from_millis(wait.value.min_ms),
            Duration::from_millis(wait.value.max_ms),
        )),
    };
    if scenario.transactions.value.is_empty() {
        return Err(invalid(
            &scenario.transactions.referenced,
            format!(
                "scenario '{}' has no transactions; expected at least one",
                scenario.name
            ),
        ));
    }
    let weight = checked_weight(
        scenario.weight,
        &format!("scenario '{}'", scenario.name),
        invalid,
    )?;
    let transactions = scenario
        .transactions
        .value
        .into_iter()
        .map(|tx| request_plan(tx, env, invalid, no_response))
        .collect::<Result<_, _>>()?;
    Ok(ScenarioPlan {
        name: scenario.name,
        weight,
        wait_time,
        transactions,
    })
}

fn request_plan(
    tx: TransactionSpec,
    env: &impl Fn(&str) -> Option<String>,
    invalid: &impl Invalid,
    no_response: &Arc<NoResponseCauses>,
) -> Result<RequestPlan, ScenarioError> {
    let path = tx.path.value;
    let weight = checked_weight(tx.weight, &format!("transaction '{path}'"), invalid)?;
    if !path.starts_with('/') {
        return Err(invalid(
            &tx.path.referenced,
            format!(
                "path '{path}' does not start with '/'; expected a path such as /fibonacci?n=10"
            ),
        ));
    }
    if path.starts_with("//") {
        return Err(invalid(
            &tx.path.referenced,
            format!(
                "path '{path}' starts with '//', which names another host; expected a path on gooseHost such as /fibonacci?n=10"
            ),
        ));
    }
    let mut headers = headers(tx.headers, env, invalid)?;
    let body = body(tx.body, tx.json, &mut headers, invalid)?;
    let expected_status = match tx.expected_status {
        None => Vec::new(),
        Some(codes) => expected_status(codes, invalid)?,
    };
    Ok(RequestPlan {
        name: tx.name.unwrap_or_else(|| path.clone()),
        weight,
        method: tx.method,
        path,
        headers,
        body,
        expected_status,
        no_response: Arc::clone(no_response),
    })
}

/// The headers, `${VARIABLE}`s substituted, values marked sensitive.
fn headers(
    given: BTreeMap<String, Spanned<String>>,
    env: &impl Fn(&str) -> Option<String>,
    invalid: &impl Invalid,
) -> Result<HeaderMap, ScenarioError> {
    let mut headers = HeaderMap::new();
    for (name, value) in given {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            invalid(
                &value.referenced,
                format!("header name '{name}' is not a valid HTTP header name; expected letters, digits and '-'"),
            )
        })?;
        let expanded = expand_env(&value.value, env)
            .map_err(|message| invalid(&value.referenced, format!("header '{name}': {message}")))?;
        let mut header_value = HeaderValue::from_str(&expanded).map_err(|_| {
            invalid(
                &value.referenced,
                format!("header '{name}': its value is not a valid HTTP header value (value not shown); expected visible ASCII"),
            )
        })?;
        header_value.set_sensitive(true);
        headers.insert(header, header_value);
    }
    Ok(headers)
}

/// The body from `body` or `json` (at most one); `json` sets the content
/// type unless a header already does.
fn body(
    body: Option<Spanned<String>>,
    json: Option<Spanned<serde_json::Value>>,
    headers: &mut HeaderMap,
    invalid: &impl Invalid,
) -> Result<Option<Vec<u8>>, ScenarioError> {
    match (body, json) {
        (Some(_), Some(json)) => Err(invalid(
            &json.referenced,
            "both 'body' and 'json' are set; expected at most one of them".into(),
        )),
        (Some(body), None) => Ok(Some(body.value.into_bytes())),
        (None, Some(json)) => {
            if !headers.contains_key(CONTENT_TYPE) {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            serde_json::to_vec(&json.value).map(Some).map_err(|err| {
                invalid(&json.referenced, format!("'json' cannot be encoded: {err}"))
            })
        }
        (None, None) => Ok(None),
    }
}

fn expected_status(
    codes: Spanned<Vec<u16>>,
    invalid: &impl Invalid,
) -> Result<Vec<u16>, ScenarioError> {
    if codes.value.is_empty() {
        return Err(invalid(
            &codes.referenced,
            "'expectedStatus' is empty; expected a list of HTTP status codes, or leave it out for any 2xx".into(),
        ));
    }
    if let Some(code) = codes.value.iter().find(|code| !(100..=599).contains(*code)) {
        return Err(invalid(
            &codes.referenced,
            format!("'expectedStatus' code {code} is not an HTTP status; expected 100 to 599"),
        ));
    }
    Ok(codes.value)
}

/// A weight as given, 1 by default, checked against 1..=[`MAX_WEIGHT`].
fn checked_weight(
    weight: Option<Spanned<i128>>,
    what: &str,
    invalid: &impl Invalid,
) -> Result<usize, ScenarioError> {
    let Some(weight) = weight else {
        return Ok(1);
    };
    match usize::try_from(weight.value) {
        Ok(value) if (1..=MAX_WEIGHT).contains(&value) => Ok(value),
        _ => Err(invalid(
            &weight.referenced,
            format!(
                "{what}: weight {} is out of range; expected a whole number from 1 to {MAX_WEIGHT}",
                weight.value
            ),
        )),
    }
}

/// Replaces each `${NAME}` with the variable's value. `$` not followed by `{`
/// is kept as is. Errors name the variable, never a value.
pub(super) fn expand_env(
    text: &str,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("'${' without a closing '}'; expected ${VARIABLE}".into());
        };
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "'${{{name}}}' is not a variable reference; expected ${{VARIABLE}} with letters, digits and '_'"
            ));
        }
        match env(name) {
            Some(value) if !value.is_empty() => out.push_str(&value),
            _ => {
                return Err(format!(
                    "environment variable '{name}' is not set or empty; expected it set, e.g. from a Kubernetes Secret"
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

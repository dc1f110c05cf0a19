//! Alertmanager's webhook payload (version 4), the body its
//! `webhook_configs` receivers `POST`, and the one parse that turns a body
//! into it or into a one-line reason naming what is wrong.
//!
//! Only what `gpa alerts` uses is typed; the other keys (`groupLabels`,
//! `commonLabels`, `externalURL`, `generatorURL`, ...) are accepted and
//! ignored, so a newer Alertmanager that adds keys keeps working.
//!
//! Bounded: a fingerprint of more than [`MAX_FINGERPRINT_CHARS`] letters
//! and digits, or an alert with more than [`MAX_LABELS`] labels or a label
//! longer than [`MAX_LABEL_NAME_BYTES`] / [`MAX_LABEL_VALUE_BYTES`], makes
//! the payload one that is refused, naming the field.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Deserialize;

use crate::escape::one_line;

/// The payload version this server understands.
pub const VERSION: &str = "4";

/// Longest fingerprint accepted, in characters. Alertmanager's are 16 hex
/// digits.
pub const MAX_FINGERPRINT_CHARS: usize = 64;

/// Most labels an alert may carry.
pub const MAX_LABELS: usize = 100;

/// Longest label name accepted, in bytes.
pub const MAX_LABEL_NAME_BYTES: usize = 256;

/// Longest label value accepted, in bytes.
pub const MAX_LABEL_VALUE_BYTES: usize = 4096;

/// Longest part of a parse error quoted from the payload, in characters.
const MAX_MESSAGE_CHARS: usize = 200;

/// One webhook notification: a group of alerts Alertmanager routed to the
/// receiver.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Payload version; must be `"4"`.
    pub version: String,
    /// Alertmanager's key of the alert group.
    pub group_key: String,
    /// `firing` when at least one alert of the group fires, else `resolved`.
    pub status: Status,
    /// The receiver's name in Alertmanager's config.
    pub receiver: String,
    /// Alerts left out because of the receiver's `max_alerts`.
    #[serde(default)]
    pub truncated_alerts: u64,
    /// The group's alerts, firing and resolved.
    pub alerts: Vec<Alert>,
}

/// Whether an alert (or a group) fires or has resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The alert is active.
    Firing,
    /// The alert has ended.
    Resolved,
}

/// One alert of a notification.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// Whether this alert fires or has resolved.
    pub status: Status,
    /// The alert's labels (`alertname`, `severity`, ...); rules match these.
    pub labels: BTreeMap<String, String>,
    /// The alert's annotations (`summary`, ...); not used.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// When the alert started firing, RFC 3339.
    pub starts_at: Timestamp,
    /// When the alert ended (`0001-01-01T00:00:00Z` while it fires), RFC 3339.
    #[serde(default)]
    pub ends_at: Option<Timestamp>,
    /// Alertmanager's fingerprint of the alert's labels: the alert's identity
    /// across notifications.
    pub fingerprint: String,
}

impl Alert {
    /// The `alertname` label, or an empty string.
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map_or("", String::as_str)
    }
}

/// Why a body is not a notification this server accepts; one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PayloadError(pub String);

/// Parses a webhook body. The error names the key path at fault
/// (`alerts[0].status`) and what was expected.
pub fn parse(body: &[u8]) -> Result<Notification, PayloadError> {
    // serde's messages quote the values sent (`unknown variant ...`), and a
    // key path names the keys sent: both escaped and shortened
    let not_a_notification = |err: serde_json::Error| {
        PayloadError(format!(
            "payload is not an Alertmanager webhook notification: {}",
            one_line(&err.to_string(), MAX_MESSAGE_CHARS)
        ))
    };
    let mut json = serde_json::Deserializer::from_slice(body);
    let notification: Notification =
        serde_path_to_error::deserialize(&mut json).map_err(|err| {
            let path = err.path().to_string();
            let inner = err.into_inner();
            if path == "." || path == "?" {
                not_a_notification(inner)
            } else {
                PayloadError(format!(
                    "payload field '{}': {}",
                    one_line(&path, MAX_MESSAGE_CHARS),
                    one_line(&inner.to_string(), MAX_MESSAGE_CHARS)
                ))
            }
        })?;
    json.end().map_err(not_a_notification)?;
    if notification.version != VERSION {
        return Err(PayloadError(format!(
            "payload field 'version' is '{}'; expected \"{VERSION}\" (Alertmanager's webhook payload version 4)",
            one_line(&notification.version, 16)
        )));
    }
    for (index, alert) in notification.alerts.iter().enumerate() {
        if let Some(problem) = alert_problem(alert) {
            return Err(PayloadError(format!(
                "payload field 'alerts[{index}].{problem}"
            )));
        }
    }
    Ok(notification)
}

/// What is wrong with an alert's fingerprint or labels, as `<key>' <problem>`
/// (the caller prefixes `payload field 'alerts[i].`).
fn alert_problem(alert: &Alert) -> Option<String> {
    let fingerprint = &alert.fingerprint;
    if fingerprint.is_empty() {
        return Some(
            "fingerprint' is empty; expected Alertmanager's fingerprint of the alert".into(),
        );
    }
    if fingerprint.len() > MAX_FINGERPRINT_CHARS
        || !fingerprint.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Some(format!(
            "fingerprint' is '{}'; expected Alertmanager's fingerprint, at most {MAX_FINGERPRINT_CHARS} letters and digits such as 1a30ba71cca2921f",
            one_line(fingerprint, MAX_FINGERPRINT_CHARS + 1)
        ));
    }
    if alert.labels.len() > MAX_LABELS {
        return Some(format!(
            "labels' has {} labels; expected at most {MAX_LABELS}",
            alert.labels.len()
        ));
    }
    for (name, value) in &alert.labels {
        if name.len() > MAX_LABEL_NAME_BYTES {
            return Some(format!(
                "labels' has a label name of {} bytes ('{}'); expected at most {MAX_LABEL_NAME_BYTES}",
                name.len(),
                one_line(name, 32)
            ));
        }
        if value.len() > MAX_LABEL_VALUE_BYTES {
            return Some(format!(
                "labels.{}' is {} bytes long; expected at most {MAX_LABEL_VALUE_BYTES}",
                one_line(name, 64),
                value.len()
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notification as Alertmanager 0.28 sends it, one firing alert.
    pub(crate) const FIRING: &str = r#"{
      "receiver": "gpa-alerts",
      "status": "firing",
      "alerts": [{
        "status": "firing",
        "labels": {"alertname": "HighLatency", "severity": "page"},
        "annotations": {"summary": "p95 above 200 ms"},
        "startsAt": "2026-11-22T19:52:26.739266876+02:00",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
        "fingerprint": "1a30ba71cca2921f"
      }],
      "groupLabels": {"alertname": "HighLatency"},
      "commonLabels": {"alertname": "HighLatency", "severity": "page"},
      "commonAnnotations": {"summary": "p95 above 200 ms"},
      "externalURL": "http://alertmanager:9093",
      "version": "4",
      "groupKey": "{}:{alertname=\"HighLatency\"}",
      "truncatedAlerts": 0
    }"#;

    #[test]
    fn reads_alertmanager_s_version_4_payload() {
        let notification = parse(FIRING.as_bytes()).unwrap();
        assert_eq!(notification.status, Status::Firing);
        assert_eq!(notification.receiver, "gpa-alerts");
        let alert = &notification.alerts[0];
        assert_eq!(alert.name(), "HighLatency");
        assert_eq!(alert.fingerprint, "1a30ba71cca2921f");
        assert_eq!(
            alert.starts_at.to_string(),
            "2026-11-22T17:52:26.739266876Z"
        );
        assert_eq!(alert.ends_at.unwrap().to_string(), "0001-01-01T00:00:00Z");
    }

    #[test]
    fn a_bad_payload_is_one_line_naming_the_field() {
        let cases = [
            (
                "",
                "payload is not an Alertmanager webhook notification: EOF",
            ),
            (
                "{",
                "payload is not an Alertmanager webhook notification: EOF",
            ),
            (
                "\"x\"",
                "payload is not an Alertmanager webhook notification: invalid type",
            ),
            (
                &FIRING.replacen(r#""status": "firing","#, r#""status": "fring","#, 2),
                "payload field 'status': unknown variant `fring`",
            ),
            (
                &FIRING.replace(
                    r#""status": "firing",
        "labels""#,
                    r#""status": "fring",
        "labels""#,
                ),
                "payload field 'alerts[0].status': unknown variant `fring`, expected `firing` or `resolved`",
            ),
            (
                &FIRING.replace("\"2026-11-22T19:52:26.739266876+02:00\"", "\"yesterday\""),
                "payload field 'alerts[0].startsAt': ",
            ),
            (
                &FIRING.replace(r#""version": "4""#, r#""version": "3""#),
                "payload field 'version' is '3'; expected \"4\"",
            ),
            (
                &FIRING.replace(
                    r#""fingerprint": "1a30ba71cca2921f""#,
                    r#""fingerprint": """#,
                ),
                "payload field 'alerts[0].fingerprint' is empty",
            ),
            (
                &FIRING.replace(
                    r#""fingerprint": "1a30ba71cca2921f""#,
                    r#""fingerprint": "a/b\n""#,
                ),
                "payload field 'alerts[0].fingerprint' is 'a/b\\n'; expected Alertmanager's fingerprint, at most 64 letters and digits",
            ),
            (
                &FIRING.replace(r#""receiver": "gpa-alerts","#, ""),
                "payload is not an Alertmanager webhook notification: missing field `receiver`",
            ),
            (
                &format!("{FIRING} x"),
                "payload is not an Alertmanager webhook notification: trailing characters",
            ),
            (
                &FIRING.replacen(
                    r#""status": "firing","#,
                    r#""status": "a\n ERROR forged","#,
                    1,
                ),
                "payload field 'status': unknown variant `a\\n ERROR forged`",
            ),
            (
                &FIRING.replacen(
                    r#""status": "firing","#,
                    &format!(r#""status": "{}","#, "x".repeat(5000)),
                    1,
                ),
                "payload field 'status': unknown variant `xxx",
            ),
        ];
        for (body, want) in cases {
            let got = parse(body.as_bytes()).unwrap_err().to_string();
            assert!(got.starts_with(want), "got:  {got}\nwant: {want}");
            assert!(!got.contains('\n'), "{got}");
            assert!(got.len() < 600, "{got}");
        }
    }
}

//! Settings as both stages take them: a flag, else its camelCase environment
//! variable (clap reads both), else a Locust Pod Autoscaler alias variable,
//! else a default. A value that is set but empty (or blank) counts as unset,
//! because a CR's `spec.config` entry with `value: ""` arrives that way.
//!
//! This is the one place that rule is written. Each stage's settings type
//! (`metric::Settings`, `evaluate::Settings`) names its settings as
//! [`Setting`]s and resolves them with [`Setting::lookup`], so errors blame
//! the name the value really came from.

/// One setting's names, highest precedence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The long flag, without `--`.
    pub flag: &'static str,
    /// The environment variable clap reads behind the flag.
    pub variable: &'static str,
    /// A Locust Pod Autoscaler name still honoured, read after both.
    pub alias: Option<&'static str>,
}

/// A value that was given, and the name to blame if it is bad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    /// The value, trimmed.
    pub value: String,
    /// `gooseUsers (--users)` for the flag or primary variable, or the alias.
    pub name: String,
}

/// A setting with a bad value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("setting {setting} '{value}': {why}; expected {expected}")]
pub struct SettingsError {
    /// The setting, named the way it was given (variable or flag).
    pub setting: String,
    /// The value given.
    pub value: String,
    /// What is wrong with it.
    pub why: String,
    /// What was expected.
    pub expected: String,
}

/// `Some(trimmed)` when `value` holds something, `None` when it is unset,
/// empty or blank.
pub fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|value| !value.is_empty())
}

impl Setting {
    /// A setting with no alias.
    pub const fn new(flag: &'static str, variable: &'static str) -> Self {
        Setting {
            flag,
            variable,
            alias: None,
        }
    }

    /// A setting that also honours an older variable name.
    pub const fn with_alias(
        flag: &'static str,
        variable: &'static str,
        alias: &'static str,
    ) -> Self {
        Setting {
            flag,
            variable,
            alias: Some(alias),
        }
    }

    /// How errors name the flag-or-variable: `gooseUsers (--users)`.
    pub fn name(&self) -> String {
        format!("{} (--{})", self.variable, self.flag)
    }

    /// The value: `given` (what clap found in the flag or the variable),
    /// else the alias variable looked up with `env`; empty counts as unset.
    pub fn lookup(
        &self,
        given: Option<&str>,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Option<Given> {
        if let Some(value) = non_empty(given) {
            return Some(Given {
                value: value.to_string(),
                name: self.name(),
            });
        }
        let alias = self.alias?;
        let value = env(alias)?;
        non_empty(Some(&value)).map(|value| Given {
            value: value.to_string(),
            name: alias.to_string(),
        })
    }
}

impl Given {
    /// The error for this value: `why` it is wrong and what was `expected`.
    pub fn error(&self, why: impl Into<String>, expected: impl Into<String>) -> SettingsError {
        SettingsError {
            setting: self.name.clone(),
            value: self.value.clone(),
            why: why.into(),
            expected: expected.into(),
        }
    }

    /// The value parsed as `T` and accepted by `valid`, else the error.
    pub fn parse<T: std::str::FromStr>(
        &self,
        valid: impl Fn(&T) -> bool,
        why: &str,
        expected: &str,
    ) -> Result<T, SettingsError> {
        match self.value.parse::<T>() {
            Ok(value) if valid(&value) => Ok(value),
            _ => Err(self.error(why, expected)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USERS: Setting = Setting::with_alias("users", "gooseUsers", "locustUsers");

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn the_flag_or_variable_beats_the_alias_and_blank_counts_as_unset() {
        let alias = env(&[("locustUsers", " 7 ")]);
        /// (what clap gave, the value and name looked up)
        type Case = (Option<&'static str>, Option<(&'static str, &'static str)>);
        let cases: &[Case] = &[
            (Some("3"), Some(("3", "gooseUsers (--users)"))),
            (Some(" 3\t"), Some(("3", "gooseUsers (--users)"))),
            (Some(""), Some(("7", "locustUsers"))),
            (Some("  "), Some(("7", "locustUsers"))),
            (None, Some(("7", "locustUsers"))),
        ];
        for (given, want) in cases {
            let got = USERS.lookup(*given, &alias);
            let want = want.map(|(value, name)| Given {
                value: value.into(),
                name: name.into(),
            });
            assert_eq!(got, want, "given {given:?}");
        }
        assert_eq!(USERS.lookup(None, &env(&[("locustUsers", "")])), None);
        assert_eq!(
            Setting::new("state", "decayInfoFilePath").lookup(None, &alias),
            None
        );
    }

    #[test]
    fn a_bad_value_names_the_setting_it_came_from_and_the_expectation() {
        let given = USERS
            .lookup(None, &env(&[("locustUsers", "many")]))
            .unwrap();
        let err = given
            .parse::<usize>(
                |n| *n >= 1,
                "not a number of users",
                "a whole number from 1",
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "setting locustUsers 'many': not a number of users; expected a whole number from 1"
        );
        let zero = USERS.lookup(Some("0"), &env(&[])).unwrap();
        assert!(zero.parse::<usize>(|n| *n >= 1, "x", "y").is_err());
        assert_eq!(zero.parse::<usize>(|_| true, "x", "y"), Ok(0));
    }
}

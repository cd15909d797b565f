//! Where settings come from: the process environment, or a map in tests.

use std::collections::HashMap;

use crate::{ConfigError, Secret};

/// A source of environment variables.
pub trait EnvSource {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables, for tests and for the xtask's rendering of service settings.
#[derive(Debug, Default, Clone)]
pub struct MapEnv(pub HashMap<String, String>);

impl MapEnv {
    pub fn new<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl EnvSource for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Records every name asked for, answering from a map: shows which variables a loader reads.
#[cfg(test)]
#[derive(Debug, Default)]
pub(crate) struct RecordingEnv {
    pub values: MapEnv,
    pub asked: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

#[cfg(test)]
impl EnvSource for RecordingEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.asked.borrow_mut().insert(name.to_owned());
        self.values.var(name)
    }
}

/// A plain setting: unset and empty both count as absent.
pub(crate) fn plain(env: &dyn EnvSource, name: &'static str) -> Option<String> {
    env.var(name).filter(|v| !v.trim().is_empty())
}

/// A setting parsed with `FromStr`, with an error naming the variable and the accepted form.
pub(crate) fn parsed<T: std::str::FromStr>(
    env: &dyn EnvSource,
    name: &'static str,
    expected: &str,
) -> Result<Option<T>, ConfigError> {
    match plain(env, name) {
        None => Ok(None),
        Some(raw) => raw.trim().parse().map(Some).map_err(|_| {
            ConfigError::invalid(name, format!("`{raw}` is not valid; expected {expected}"))
        }),
    }
}

/// A boolean setting: true/false, 1/0, yes/no, on/off.
pub(crate) fn flag(env: &dyn EnvSource, name: &'static str) -> Result<Option<bool>, ConfigError> {
    match plain(env, name) {
        None => Ok(None),
        Some(raw) => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(ConfigError::invalid(
                name,
                format!("`{raw}` is not valid; expected true or false"),
            )),
        },
    }
}

/// A secret setting: `NAME` itself, or the contents of the file that `NAME_FILE` names
/// (one trailing newline removed, as editors and `kubectl create secret --from-file` leave one).
pub(crate) fn secret(
    env: &dyn EnvSource,
    name: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    let direct = plain(env, name);
    let file_var = format!("{name}_FILE");
    let file = env.var(&file_var).filter(|v| !v.trim().is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => Err(ConfigError::BothValueAndFile { name }),
        (Some(value), None) => Ok(Some(Secret::new(value))),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(&path)
                .map_err(|source| ConfigError::UnreadableSecretFile { name, path, source })?;
            let value = text.strip_suffix('\n').unwrap_or(&text);
            let value = value.strip_suffix('\r').unwrap_or(value);
            Ok((!value.is_empty()).then(|| Secret::new(value)))
        }
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secret_comes_from_the_file_named_by_the_file_variable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "from-a-mounted-file\n").unwrap();
        let env = MapEnv::new([("TOKEN_FILE", path.to_str().unwrap())]);
        assert_eq!(
            secret(&env, "TOKEN").unwrap().unwrap().expose(),
            "from-a-mounted-file"
        );
    }

    #[test]
    fn secret_refuses_both_a_value_and_a_file() {
        let env = MapEnv::new([("TOKEN", "a"), ("TOKEN_FILE", "/nonexistent")]);
        let err = secret(&env, "TOKEN").unwrap_err().to_string();
        assert!(err.contains("TOKEN and TOKEN_FILE are both set"), "{err}");
    }

    #[test]
    fn secret_file_that_is_missing_names_the_path() {
        let env = MapEnv::new([("TOKEN_FILE", "/nonexistent/secret")]);
        let err = secret(&env, "TOKEN").unwrap_err().to_string();
        assert!(err.contains("/nonexistent/secret"), "{err}");
    }

    #[test]
    fn flags_accept_common_spellings_and_reject_others() {
        let env = MapEnv::new([("A", "yes"), ("B", "0"), ("C", "maybe")]);
        assert_eq!(flag(&env, "A").unwrap(), Some(true));
        assert_eq!(flag(&env, "B").unwrap(), Some(false));
        assert!(
            flag(&env, "C")
                .unwrap_err()
                .to_string()
                .contains("expected true or false")
        );
        assert_eq!(flag(&env, "D").unwrap(), None);
    }
}

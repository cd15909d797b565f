//! The backend's configuration from its environment, `DATABASE_URL` included: any values of its
//! variables, no panic; the password of a PostgreSQL URL never shows in the description that
//! is logged. The `_FILE` variables and `CONFIG_FILE` are left out (they name files to read,
//! not text to parse).

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use todo_config::{BackendConfig, DatabaseUrl, MapEnv, backend::ENV_VARS};

/// Marks the password, so its absence from the description can be checked exactly.
const MARK: &str = "PASSWORD";

#[derive(Debug, Arbitrary)]
struct Environment<'a> {
    database_url: &'a str,
    /// Values for the backend's variables, each picked by its index in `ENV_VARS`.
    others: Vec<(u8, &'a str)>,
    /// A PostgreSQL URL `postgres://{user}:PASSWORD{password}@{location}`.
    postgres: (&'a str, &'a str, &'a str),
}

fuzz_target!(|environment: Environment<'_>| {
    let _ = DatabaseUrl::parse(environment.database_url);

    let (user, password, location) = environment.postgres;
    if !location.contains(MARK) {
        let url = format!("postgres://{user}:{MARK}{password}@{location}");
        if let Ok(parsed) = DatabaseUrl::parse(&url) {
            let described = parsed.describe();
            assert!(
                !described.contains(MARK),
                "the password shows in `{described}`"
            );
        }
    }

    let names: Vec<&str> = ENV_VARS
        .iter()
        .copied()
        .filter(|name| !name.ends_with("_FILE") && *name != "CONFIG_FILE")
        .collect();
    let mut pairs = vec![("DATABASE_URL", environment.database_url)];
    for (index, value) in environment.others {
        pairs.push((names[usize::from(index) % names.len()], value));
    }
    let _ = BackendConfig::from_env(&MapEnv::new(pairs));
});

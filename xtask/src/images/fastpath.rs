//! The fast path: static binaries built on the host, each packed with the few files it needs
//! at run time into a `FROM scratch` image (no base image to pull, so any engine can build it).

use std::path::PathBuf;

use anyhow::{Context, bail};
use xshell::{Shell, cmd};

use super::{
    Service,
    context::{Entry, tar_of},
};
use crate::project;

/// The target the static binaries are built for (glibc, statically linked).
pub const TARGET: &str = "x86_64-unknown-linux-gnu";

/// Where the host keeps its CA bundle (Debian/Ubuntu path); the image gets it at the same path.
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// The unprivileged user every image runs as.
pub const APP_UID_GID: &str = "10001:10001";

/// Which Cargo profile builds the binaries the images carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum BuildProfile {
    /// `release`: thin LTO and few codegen units, the smallest and fastest binaries; what the
    /// images users ship carry.
    #[default]
    Release,
    /// `stack` (Cargo.toml): release optimisation without LTO, many codegen units and
    /// incremental builds; an edit reaches a running stack in seconds instead of minutes.
    Stack,
}

impl BuildProfile {
    /// The profile's name for `cargo --profile`, and its folder under the target directory.
    pub fn name(self) -> &'static str {
        match self {
            Self::Release => "release",
            Self::Stack => "stack",
        }
    }
}

/// Builds every service's binary with the C runtime linked in, into the normal target folder
/// (`target/x86_64-unknown-linux-gnu/<profile>`), leaving host builds' flags alone.
pub fn build_static_binaries(
    sh: &Shell,
    services: &[Service],
    profile: BuildProfile,
) -> anyhow::Result<()> {
    let packages: Vec<String> = services
        .iter()
        .flat_map(|s| ["-p".to_owned(), s.package.to_owned()])
        .collect();
    let name = profile.name();
    cmd!(
        sh,
        "cargo build --profile {name} --locked --target {TARGET} {packages...}"
    )
    .env(
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS",
        "-C target-feature=+crt-static",
    )
    .run()
    .with_context(|| format!("building the static binaries (profile {name})"))?;
    Ok(())
}

/// The path of a service's static binary (under `CARGO_TARGET_DIR` when that is set).
pub fn binary_path(service: &Service, profile: BuildProfile) -> PathBuf {
    project::target_dir()
        .join(TARGET)
        .join(profile.name())
        .join(service.binary)
}

/// The build context of one service's scratch image: its Dockerfile, the binary, and a tiny
/// root filesystem (users, name lookup, CA roots, the data folder).
pub fn context(
    service: &Service,
    profile: BuildProfile,
    labels: &[(String, String)],
) -> anyhow::Result<Vec<u8>> {
    let binary_file = binary_path(service, profile);
    let binary = std::fs::read(&binary_file).with_context(|| {
        format!(
            "reading {} (run `cargo xtask images` to build it)",
            binary_file.display()
        )
    })?;
    if !is_static_elf(&binary) {
        bail!(
            "{} is dynamically linked and cannot run in a scratch image; build it with \
             CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS='-C target-feature=+crt-static'",
            binary_file.display()
        );
    }
    let ca_bundle = std::fs::read(CA_BUNDLE).with_context(|| {
        format!("reading the CA bundle {CA_BUNDLE}; install it with `apt-get install -y ca-certificates`")
    })?;
    let file = |path: &str, mode: u32, contents: Vec<u8>| Entry::File {
        path: path.to_owned(),
        mode,
        contents,
    };
    let mut entries = vec![
        file(
            "Dockerfile",
            0o644,
            dockerfile(service, labels).into_bytes(),
        ),
        file(&format!("rootfs/{}", service.binary), 0o755, binary),
        file(
            "rootfs/etc/passwd",
            0o644,
            b"app:x:10001:10001:todo-chatbot:/:/sbin/nologin\n".to_vec(),
        ),
        file("rootfs/etc/group", 0o644, b"app:x:10001:\n".to_vec()),
        // /etc/hosts first, then DNS, as on a distribution (glibc's default without this file
        // asks DNS first).
        file(
            "rootfs/etc/nsswitch.conf",
            0o644,
            b"hosts: files dns\n".to_vec(),
        ),
        file(&format!("rootfs{CA_BUNDLE}"), 0o644, ca_bundle),
    ];
    if service.data_volume {
        entries.push(Entry::Dir {
            path: "data".to_owned(),
            mode: 0o750,
        });
    }
    tar_of(&entries)
}

/// The generated Dockerfile: the same user, ports, labels and health check as
/// `deploy/docker/Dockerfile`'s runtime stages.
pub fn dockerfile(service: &Service, labels: &[(String, String)]) -> String {
    let binary = service.binary;
    let mut text = String::from("FROM scratch\nCOPY rootfs/ /\n");
    if service.data_volume {
        text.push_str("COPY --chown=10001:10001 data/ /data/\n");
    }
    if service.data_volume {
        // No DATABASE_URL in the image: the default, ./data/todo.db, resolves against this
        // folder to the volume, and DATABASE_URL_FILE (the chart's external mode) can be set
        // without a conflict.
        text.push_str("WORKDIR /\n");
    }
    let env = [
        format!("PORT={}", service.port),
        "BIND=0.0.0.0".to_owned(),
        format!("SSL_CERT_FILE={CA_BUNDLE}"),
    ];
    text.push_str(&format!("ENV {}\n", env.join(" ")));
    // One LABEL instruction: every instruction is a build step, and steps cost time.
    if !labels.is_empty() {
        let pairs: Vec<String> = labels
            .iter()
            .map(|(key, value)| {
                format!(
                    "{key}=\"{}\"",
                    value.replace('\\', "\\\\").replace('"', "\\\"")
                )
            })
            .collect();
        text.push_str(&format!("LABEL {}\n", pairs.join(" \\\n      ")));
    }
    text.push_str(&format!("USER {APP_UID_GID}\nEXPOSE {}\n", service.port));
    if service.data_volume {
        text.push_str("VOLUME [\"/data\"]\n");
    }
    text.push_str(&format!(
        "HEALTHCHECK --interval=10s --timeout=4s --start-period=5s --retries=3 CMD [\"/{binary}\", \"healthcheck\"]\n\
         ENTRYPOINT [\"/{binary}\"]\n"
    ));
    text
}

/// True for an ELF file without a program interpreter, i.e. one that needs no dynamic loader.
fn is_static_elf(bytes: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let read = |at: usize, len: usize| bytes.get(at..at + len);
    let (Some(magic), Some(phoff), Some(phentsize), Some(phnum)) =
        (read(0, 4), read(0x20, 8), read(0x36, 2), read(0x38, 2))
    else {
        return false;
    };
    if magic != b"\x7fELF" || bytes.get(4) != Some(&2) {
        return false;
    }
    let number = |b: &[u8]| {
        b.iter()
            .rev()
            .fold(0usize, |acc, byte| (acc << 8) | usize::from(*byte))
    };
    let (phoff, phentsize, phnum) = (number(phoff), number(phentsize), number(phnum));
    (0..phnum).all(|i| {
        let kind = read(phoff + i * phentsize, 4).map(number);
        kind.is_some_and(|k| k != PT_INTERP as usize)
    })
}

/// True when `path` is a statically linked ELF binary.
#[cfg(test)]
fn is_static_binary(path: &std::path::Path) -> bool {
    std::fs::read(path).is_ok_and(|bytes| is_static_elf(&bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::catalog::SERVICES;

    #[test]
    fn the_generated_dockerfile_runs_the_binary_as_the_app_user_with_a_health_check() {
        let labels = vec![(
            "org.opencontainers.image.title".to_owned(),
            "todo \"chatbot\"".to_owned(),
        )];
        let backend = dockerfile(&SERVICES[0], &labels);
        assert!(backend.starts_with("FROM scratch\n"), "{backend}");
        assert!(backend.contains("USER 10001:10001\n"), "{backend}");
        assert!(
            backend.contains("ENTRYPOINT [\"/backend\"]\n"),
            "exec form: {backend}"
        );
        assert!(
            backend.contains("CMD [\"/backend\", \"healthcheck\"]"),
            "{backend}"
        );
        assert!(
            !backend.contains("DATABASE_URL"),
            "the chart's DATABASE_URL_FILE must not meet an image DATABASE_URL: {backend}"
        );
        assert!(
            backend.contains("WORKDIR /\n"),
            "the default database must resolve to the /data volume: {backend}"
        );
        let default = todo_config::database::DEFAULT_SQLITE_PATH;
        assert_eq!(
            std::path::Path::new("/").join(default.trim_start_matches("./")),
            std::path::Path::new("/data/todo.db"),
            "the backend's default database ({default}) from WORKDIR / is in the volume"
        );
        assert!(backend.contains("VOLUME [\"/data\"]"), "{backend}");
        assert!(
            backend.contains(r#"LABEL org.opencontainers.image.title="todo \"chatbot\"""#),
            "quotes escaped: {backend}"
        );
        let frontend = dockerfile(&SERVICES[1], &[]);
        assert!(
            !frontend.contains("/data"),
            "the frontend keeps no data: {frontend}"
        );
        assert!(frontend.contains("EXPOSE 3000\n"), "{frontend}");
    }

    #[test]
    fn only_binaries_without_an_interpreter_count_as_static() {
        assert!(
            !is_static_binary(std::path::Path::new("/bin/sh")),
            "/bin/sh is dynamically linked"
        );
        assert!(
            is_static_binary(std::path::Path::new("/sbin/ldconfig")),
            "glibc's ldconfig is static-pie"
        );
        assert!(!is_static_elf(b"#!/bin/sh\necho not an ELF\n"));
    }
}

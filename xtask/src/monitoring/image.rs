//! The Prometheus and Alertmanager images: `FROM scratch` with the machine's own binary (from
//! Debian's `prometheus` and `prometheus-alertmanager` packages), the shared libraries `ldd`
//! says it loads (libc and the loader), its web assets, its configuration and a user. Nothing
//! is pulled. The tag is the digest of the build context, so an unchanged image is reused.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bollard::Docker;
use xshell::{Shell, cmd};

use crate::images::{
    build::{BuildSpec, build, progress_line},
    context::{Entry, tar_of},
    tags::hex_digest,
};

/// One image to build.
pub struct Spec<'a> {
    /// The image name (no tag).
    pub name: &'a str,
    /// The binary on this machine, and where it goes in the image.
    pub binary: PathBuf,
    pub entrypoint: &'a str,
    /// A folder of this machine's copied as it is (web assets), if it exists.
    pub assets: Option<&'a Path>,
    /// Files written into the image: `(path, contents)`.
    pub files: Vec<(&'a str, String)>,
    pub port: u16,
    pub description: &'a str,
}

/// The uid and gid the processes run as (`nobody`).
pub const USER_ID: u32 = 65534;

/// Where `program` is on PATH, or an error saying which package to install.
pub fn binary(program: &super::Program) -> anyhow::Result<PathBuf> {
    program
        .names
        .iter()
        .find_map(|name| which::which(name).ok())
        .with_context(|| {
            format!(
                "{} is not installed: install it with `apt-get install -y {}` (its binary goes \
                 into the image)",
                program.names.join(" or "),
                program.package
            )
        })
}

/// The Prometheus image with `files` in it (its configuration and rules on docker; none on a
/// cluster, where a ConfigMap is mounted over `/etc/prometheus`).
pub fn prometheus_spec(files: Vec<(&'static str, String)>) -> anyhow::Result<Spec<'static>> {
    Ok(Spec {
        name: super::PROMETHEUS,
        binary: binary(&super::PROMETHEUS_PROGRAM)?,
        entrypoint: "/bin/prometheus",
        assets: Some(Path::new("/usr/share/prometheus/web")),
        files,
        port: super::PROMETHEUS_PORT,
        description: "Prometheus for the Todo Chatbot stack, with the chart's alert rules",
    })
}

/// The Alertmanager image with its configuration.
pub fn alertmanager_spec(config: String) -> anyhow::Result<Spec<'static>> {
    Ok(Spec {
        name: super::ALERTMANAGER,
        binary: binary(&super::ALERTMANAGER_PROGRAM)?,
        entrypoint: "/bin/alertmanager",
        assets: Some(Path::new("/usr/share/prometheus/alertmanager")),
        files: vec![(super::config::ALERTMANAGER_CONFIG, config)],
        port: super::ALERTMANAGER_PORT,
        description: "Alertmanager for the Todo Chatbot stack",
    })
}

/// Builds the image unless one from the same context exists; returns its reference.
pub async fn ensure(sh: &Shell, docker: &Docker, spec: Spec<'_>) -> anyhow::Result<String> {
    let context = context(sh, &spec)?;
    let tag = &hex_digest(&context)[..12];
    let reference = format!("{}:{tag}", spec.name);
    if docker.inspect_image(&reference).await.is_ok() {
        return Ok(reference);
    }
    println!("==> building {reference} from {}", spec.binary.display());
    let progress = progress_line(spec.name);
    let built = build(
        docker,
        BuildSpec {
            reference: reference.clone(),
            dockerfile: "Dockerfile".to_owned(),
            context,
            labels: [
                ("org.opencontainers.image.title", spec.name),
                ("org.opencontainers.image.description", spec.description),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            build_args: Default::default(),
            target: None,
            pull: false,
        },
        &progress,
    )
    .await;
    progress.finish_and_clear();
    built?;
    Ok(reference)
}

fn context(sh: &Shell, spec: &Spec<'_>) -> anyhow::Result<Vec<u8>> {
    let mut entries = vec![
        Entry::File {
            path: "Dockerfile".to_owned(),
            mode: 0o644,
            contents: dockerfile(spec).into_bytes(),
        },
        file(&spec.binary, &format!("rootfs{}", spec.entrypoint), 0o755)?,
        text(
            "rootfs/etc/passwd",
            "nobody:x:65534:65534:nobody:/:/sbin/nologin\n",
        ),
        text("rootfs/etc/group", "nogroup:x:65534:\n"),
        text("rootfs/etc/nsswitch.conf", "hosts: files dns\n"),
    ];
    for library in shared_libraries(sh, &spec.binary)? {
        let inside = format!("rootfs{}", library.display());
        entries.push(file(&library, &inside, 0o755)?);
    }
    if let Some(assets) = spec.assets.filter(|p| p.is_dir()) {
        copy_tree(assets, &mut entries)?;
    }
    for (path, contents) in &spec.files {
        entries.push(text(&format!("rootfs{path}"), contents));
    }
    tar_of(&entries)
}

fn dockerfile(spec: &Spec<'_>) -> String {
    format!(
        "FROM scratch\nCOPY rootfs/ /\nUSER {USER_ID}:{USER_ID}\nEXPOSE {}\nENTRYPOINT [\"{}\"]\n",
        spec.port, spec.entrypoint
    )
}

fn text(path: &str, contents: &str) -> Entry {
    Entry::File {
        path: path.to_owned(),
        mode: 0o644,
        contents: contents.as_bytes().to_vec(),
    }
}

fn file(from: &Path, to: &str, mode: u32) -> anyhow::Result<Entry> {
    // The loader and libc are often symlinks: their targets' bytes go in under the link's name.
    let contents = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    Ok(Entry::File {
        path: to.to_owned(),
        mode,
        contents,
    })
}

/// Every file under `dir`, at the same absolute path in the image.
fn copy_tree(dir: &Path, entries: &mut Vec<Entry>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        if path.is_dir() {
            copy_tree(&path, entries)?;
        } else if path.is_file() {
            entries.push(file(&path, &format!("rootfs{}", path.display()), 0o644)?);
        }
    }
    Ok(())
}

/// The shared libraries `binary` loads, loader included (none for a static binary).
fn shared_libraries(sh: &Shell, binary: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let output = cmd!(sh, "ldd {binary}")
        .quiet()
        .ignore_status()
        .output()
        .context("running ldd (from libc-bin)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        if String::from_utf8_lossy(&output.stderr).contains("not a dynamic executable")
            || text.contains("not a dynamic executable")
        {
            return Ok(Vec::new());
        }
        bail!(
            "ldd {} failed: {}",
            binary.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(parse_ldd(&text))
}

/// The absolute paths in `ldd`'s output: `libc.so.6 => /lib/.../libc.so.6 (0x...)` and the
/// loader's own line `/lib64/ld-linux-x86-64.so.2 (0x...)`; the vDSO has no file.
fn parse_ldd(text: &str) -> Vec<PathBuf> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            let path = match line.split_once("=>") {
                Some((_, after)) => after.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_gives_the_libraries_and_the_loader() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        assert_eq!(
            parse_ldd(text),
            vec![
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
        assert!(parse_ldd("\tstatically linked\n").is_empty());
    }
}

//! Image names and tags: the short git commit, plus `-dirty.<hash>` when the working tree has
//! uncommitted changes, so every distinct source state gets its own tag and none is `latest`.

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use xshell::{Shell, cmd};

/// The source state an image is built from.
#[derive(Debug, Clone)]
pub struct Revision {
    /// The full commit id (the `org.opencontainers.image.revision` label).
    pub commit: String,
    /// The image tag.
    pub tag: String,
    /// The commit's time, RFC 3339: the `created` label, so labels do not change run to run.
    pub commit_time: String,
}

impl Revision {
    /// Reads the repository's state with git.
    pub fn current(sh: &Shell) -> anyhow::Result<Self> {
        let commit = cmd!(sh, "git rev-parse HEAD")
            .read()
            .context("reading the current commit (is this a git checkout with a commit?)")?;
        let commit_time = cmd!(sh, "git log -1 --format=%cI HEAD")
            .read()
            .context("reading the commit time")?;
        let status = cmd!(sh, "git status --porcelain=v1 --untracked-files=all")
            .read()
            .context("reading the working tree's status")?;
        let diff = if status.trim().is_empty() {
            None
        } else {
            Some(working_tree_changes(sh, &status)?)
        };
        let tag = compose_tag(&commit, diff.as_deref())?;
        Ok(Self {
            commit,
            tag,
            commit_time,
        })
    }
}

/// Everything that differs from the commit: the diff of tracked files and the untracked files'
/// names and contents.
fn working_tree_changes(sh: &Shell, status: &str) -> anyhow::Result<Vec<u8>> {
    let mut changes = cmd!(sh, "git diff HEAD --binary")
        .output()
        .context("reading the uncommitted changes")?
        .stdout;
    for line in status.lines() {
        if let Some(path) = line.strip_prefix("?? ") {
            changes.extend_from_slice(path.as_bytes());
            changes.push(0);
            // A file that vanished since `git status` ran changes the hash anyway.
            if let Ok(contents) = std::fs::read(sh.current_dir().join(path)) {
                changes.extend_from_slice(&contents);
            }
            changes.push(0);
        }
    }
    Ok(changes)
}

/// The tag for `commit`: its first 12 hex digits, plus `-dirty.<12 hex of the changes' SHA-256>`
/// when there are uncommitted changes.
pub fn compose_tag(commit: &str, uncommitted: Option<&[u8]>) -> anyhow::Result<String> {
    let commit = commit.trim();
    if commit.len() < 12 || !commit.chars().all(|c| c.is_ascii_hexdigit()) {
        bail!("`{commit}` is not a git commit id");
    }
    let short = &commit[..12];
    Ok(match uncommitted {
        None => short.to_owned(),
        Some(changes) => format!("{short}-dirty.{}", &hex_digest(changes)[..12]),
    })
}

/// The SHA-256 of `bytes` as lower-case hex.
pub fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a tag given by hand (`--tag`): Docker's tag grammar, and never `latest`, which would
/// make a deployment's image change under it.
pub fn validate_tag(tag: &str) -> anyhow::Result<()> {
    let grammar = !tag.is_empty()
        && tag.len() <= 128
        && !tag.starts_with(['.', '-'])
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if !grammar {
        bail!(
            "`{tag}` is not a valid image tag: 1 to 128 of A-Z a-z 0-9 _ . -, not starting with . or -"
        );
    }
    if tag == "latest" {
        bail!(
            "the tag `latest` is refused: deployments must name an image that cannot change under them"
        );
    }
    Ok(())
}

/// `[registry/]name:tag`, after checking the registry prefix is a valid reference part.
pub fn image_reference(registry: Option<&str>, name: &str, tag: &str) -> anyhow::Result<String> {
    match registry.map(|r| r.trim_end_matches('/')) {
        None | Some("") => Ok(format!("{name}:{tag}")),
        Some(prefix) => {
            let valid = prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-:/".contains(c))
                && !prefix.starts_with(['/', '.', '-', ':'])
                && !prefix.contains("//");
            if !valid {
                bail!(
                    "registry prefix `{prefix}` is not valid: use lower-case host[:port][/path], e.g. `ghcr.io/acme` or `localhost:5000`"
                );
            }
            Ok(format!("{prefix}/{name}:{tag}"))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn a_clean_tree_is_tagged_with_the_short_commit() {
        assert_eq!(compose_tag(COMMIT, None).unwrap(), "0123456789ab");
        assert_eq!(
            compose_tag(&format!("{COMMIT}\n"), None).unwrap(),
            "0123456789ab",
            "git's newline is ignored"
        );
    }

    #[test]
    fn uncommitted_changes_add_a_dirty_suffix_that_follows_the_changes() {
        let one = compose_tag(COMMIT, Some(b"diff one")).unwrap();
        let again = compose_tag(COMMIT, Some(b"diff one")).unwrap();
        let other = compose_tag(COMMIT, Some(b"diff two")).unwrap();
        assert!(one.starts_with("0123456789ab-dirty."), "{one}");
        assert_eq!(one.len(), "0123456789ab-dirty.".len() + 12, "{one}");
        assert_eq!(one, again, "the same changes give the same tag");
        assert_ne!(one, other, "different changes give different tags");
    }

    #[test]
    fn hand_given_tags_follow_dockers_grammar_and_are_never_latest() {
        for good in ["v1.2.3", "0123456789ab-dirty.0c2abcac8dd4", "release_7"] {
            assert!(validate_tag(good).is_ok(), "{good}");
        }
        for bad in ["", "-x", ".x", "a:b", "a/b", "ü", &"x".repeat(129)] {
            let err = validate_tag(bad).unwrap_err().to_string();
            assert!(err.contains("not a valid image tag"), "{bad}: {err}");
        }
        let err = validate_tag("latest").unwrap_err().to_string();
        assert!(err.contains("`latest` is refused"), "{err}");
    }

    #[test]
    fn something_that_is_not_a_commit_id_is_refused() {
        let err = compose_tag("latest", None).unwrap_err().to_string();
        assert!(err.contains("not a git commit id"), "{err}");
    }

    #[test]
    fn the_tag_follows_the_state_of_a_real_repository() {
        let dir = tempfile::tempdir().unwrap();
        let sh = Shell::new().unwrap();
        sh.change_dir(dir.path());
        let git = |args: &[&str]| {
            cmd!(
                sh,
                "git -c user.name=test -c user.email=test@example.invalid {args...}"
            )
            .quiet()
            .ignore_stdout()
            .run()
            .unwrap();
        };
        git(&["init", "--quiet"]);
        std::fs::write(dir.path().join("file.txt"), "one\n").unwrap();
        git(&["add", "file.txt"]);
        git(&["commit", "--quiet", "-m", "first"]);

        let clean = Revision::current(&sh).unwrap();
        assert_eq!(
            clean.tag.len(),
            12,
            "a clean tree is tagged with the short commit: {}",
            clean.tag
        );
        assert!(clean.commit.starts_with(&clean.tag));

        std::fs::write(dir.path().join("file.txt"), "two\n").unwrap();
        let edited = Revision::current(&sh).unwrap().tag;
        assert!(
            edited.starts_with(&format!("{}-dirty.", clean.tag)),
            "{edited}"
        );

        std::fs::write(dir.path().join("new.txt"), "untracked\n").unwrap();
        let with_new_file = Revision::current(&sh).unwrap().tag;
        assert_ne!(with_new_file, edited, "an untracked file changes the tag");
        std::fs::write(dir.path().join("new.txt"), "changed\n").unwrap();
        assert_ne!(
            Revision::current(&sh).unwrap().tag,
            with_new_file,
            "so does its content"
        );

        git(&["add", "-A"]);
        git(&["commit", "--quiet", "-m", "second"]);
        let committed = Revision::current(&sh).unwrap().tag;
        assert_eq!(
            committed.len(),
            12,
            "clean again after the commit: {committed}"
        );
        assert_ne!(committed, clean.tag);
    }

    #[test]
    fn references_take_an_optional_registry_prefix() {
        assert_eq!(
            image_reference(None, "todo-chatbot-backend", "abc").unwrap(),
            "todo-chatbot-backend:abc"
        );
        assert_eq!(
            image_reference(Some("localhost:5000/team/"), "todo-chatbot-backend", "abc").unwrap(),
            "localhost:5000/team/todo-chatbot-backend:abc"
        );
        let err = image_reference(Some("GHCR.io/Acme"), "x", "abc")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lower-case"), "{err}");
    }
}
